# bench/geo-map.sh: the geo workload's steering, one text for every benchmark that measures it
# (bench/compare on loopback, bench/xdp.sh on the veth rig, bench/ecs-scopes.sh), so that
# geodns and gdnsd answer the same map wherever they are compared. Sourced, not run.
#
#   geo_map_toml             geodns: the four datacentres and [steer.www] (append to a zone)
#   geo_map_gdnsd DB         gdnsd: the plugins block, its geoip map reading DB (GeoIP2 layout)
#
# Continents to ordered datacentre lists, one answer; www answers 192.0.2.10 (fra) for Europe
# and 198.51.100.10 (iad) for North America, which the scripts check before they measure.

geo_map_toml() {
  cat <<'EOF'

[datacenters.fra]
addresses = ["192.0.2.10"]
location = { lat = 50.11, lon = 8.68 }

[datacenters.iad]
addresses = ["198.51.100.10"]

[datacenters.sin]
addresses = ["203.0.113.10"]

[datacenters.gru]
addresses = ["203.0.113.20"]

[steer.www]
ttl = 30
policy = "geo"
answers = 1
map.EU = ["fra", "iad"]
map.NA = ["iad", "fra"]
map.AS = ["sin", "fra"]
map.SA = ["gru", "iad"]
map.OC = ["sin", "iad"]
map.default = ["iad", "fra"]
EOF
}

geo_map_gdnsd() {  # $1 the GeoIP2 database gdnsd reads
  cat <<EOF
plugins => {
  geoip => {
    maps => {
      bench_map => {
        geoip2_db => "$1"
        datacenters => [fra, iad, sin, gru]
        map => {
          EU => [fra, iad]
          NA => [iad, fra]
          AS => [sin, fra]
          SA => [gru, iad]
          OC => [sin, iad]
          default => [iad, fra]
        }
      }
    }
    resources => {
      www => {
        map => bench_map
        dcmap => {
          fra => 192.0.2.10
          iad => 198.51.100.10
          sin => 203.0.113.10
          gru => 203.0.113.20
        }
      }
    }
  }
}
EOF
}
