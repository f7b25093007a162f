# Demo zone: static records of every common type, plus steered names.
# Try: dig @127.0.0.1 -p 5353 www.example.com +subnet=81.2.69.0/24

[zone]
name = "example.com."
ttl = 3600                        # default TTL of the static records

[zone.soa]
mname = "ns1.example.com."
rname = "hostmaster.example.com."
refresh = "1h"
retry = "10m"
expire = "14d"
minimum = "60s"                   # serial: automatic, increases on every change

[records]
"@" = [
  "NS ns1.example.com.",
  "NS ns2.example.com.",
  "MX 10 mail.example.com.",
  "MX 20 mail2.example.com.",
  'TXT "v=spf1 mx -all"',
  'CAA 0 issue "letsencrypt.org"',
  'CAA 0 iodef "mailto:security@example.com"',
]
ns1 = ["A 198.51.100.53", "AAAA 2001:db8:53::1"]
ns2 = ["A 203.0.113.53", "AAAA 2001:db8:53::2"]
mail = { ttl = 600, rr = ["A 198.51.100.25", "AAAA 2001:db8:25::1"] }
mail2 = { ttl = 600, rr = "A 203.0.113.25" }

# A CNAME chain inside the zone: alias -> www2 -> address.
alias = "CNAME www2"
www2 = ["A 198.51.100.80", "AAAA 2001:db8:80::1"]

# One TXT record with several strings, and one longer than 255 bytes (split on load).
txt = [
  'TXT "first string" "second string" "third"',
  { ttl = 60, rr = 'TXT "google-site-verification=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg"' },
]
"long._domainkey" = 'TXT "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu5Lx9hQ0s4b2n1qk8Vd3w6yZ3pQ7c9mT2rJ1fN0xHkLwQ5aGZbYh3eU8oPq4sRt6vXy1zC2dE3fG4hI5jK6lM7nO8pQ9rS0tU1vW2xY3zA4bC5dE6fG7hI8jK9lM0nO1pQ2rS3tU4vW5xY6zA7bC8dE9fG0hI1jK2lM3nO4pQ5rS6tU7vW8xY9zA0bC1dE2fG3hI4jK5lM6nO7pQ8rS9tU0vW1xY2zA3bC4dE5fG6hI7jK8lM9nO0pQ1rS2tU3vW4xY5zA6bC7dE8fG9hI0jK1lM2nO3pQ4rS5tU6vW7xY8zA9bC0dE1fG2hIDAQAB"'

"_sip._tcp" = ["SRV 10 60 5060 sip.example.com.", "SRV 20 40 5060 sip2.example.com."]
sip = "A 198.51.100.60"
sip2 = "A 203.0.113.60"

# Wildcard (RFC 4592): anything.wild.example.com answers with this address.
"*.wild" = ["A 192.0.2.200", 'TXT "wildcard"']

# Empty non-terminal: b.c.example.com and c.example.com exist but hold no records.
"a.b.c" = "A 192.0.2.100"

# Delegation with glue: sub.example.com is served elsewhere.
sub = ["NS ns1.sub.example.com.", "NS ns.example.net."]
"ns1.sub" = ["A 192.0.2.53", "AAAA 2001:db8:53::53"]

# ---- steering -------------------------------------------------------------------------

[datacenters.fra]                 # Frankfurt
addresses = ["192.0.2.10", "192.0.2.11", "2001:db8:f::10"]
location = { lat = 50.11, lon = 8.68 }

[datacenters.iad]                 # Ashburn
addresses = ["198.51.100.10", "198.51.100.11", "2001:db8:a::10"]
location = { lat = 38.95, lon = -77.45 }

[datacenters.sin]                 # Singapore
addresses = ["203.0.113.10", "2001:db8:5::10"]
location = { lat = 1.35, lon = 103.82 }

[datacenters.gru]                 # São Paulo
addresses = ["203.0.113.20"]
location = { lat = -23.55, lon = -46.63 }

# Not used yet: add `check = "web"` to a datacenter to probe its addresses.
[checks.web]
type = "http"
port = 80
path = "/healthz"
expect = "2xx"
interval = "1s"
timeout = "800ms"
fall = 3
rise = 2

[steer.www]                       # by the client's continent, CIDR overrides first
ttl = 30
policy = "geo"
answers = 2
map.EU = ["fra", "iad"]
map.NA = ["iad", "fra"]
map.AS = ["sin", "fra"]
map.SA = ["gru", "iad"]
map.OC = ["sin", "iad"]
map.default = ["iad", "fra"]
nets."203.0.113.0/24" = ["sin"]

[steer.near]                      # the closest datacenter by great-circle distance
ttl = 30
policy = "nearest"
datacenters = ["fra", "iad", "sin", "gru"]

[steer.api]                       # iad while it is up, fra otherwise
ttl = 20
policy = "failover"
datacenters = ["iad", "fra"]

[steer.cdn]                       # three quarters fra, one quarter iad
ttl = 60
policy = "weighted"
weights = { fra = 3, iad = 1 }

[steer.rr]                        # every address of both, rotated
ttl = 30
policy = "roundrobin"
datacenters = ["fra", "iad"]
