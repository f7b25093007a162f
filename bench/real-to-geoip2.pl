#!/usr/bin/perl
# Optional, for bench/compare's georeal workload: converts the flat CC0 country database
# (geoip/real/geo-whois-asn-country.mmdb, `country_code` only; see geoip/fetch-real-db.sh) to the
# GeoIP2 layout (`country.iso_code`, `continent.code`) that gdnsd's geoip plugin reads, so gdnsd
# and geodns can be measured on the same networks. The continent of each country is taken from
# src/geo/countries.cpp, the table geodns itself derives continents from, so both servers see
# the same country -> continent function. Every network of the source is copied as it is (no
# merging, no reserved-network removal), so the two files partition the address space alike.
#
# Needs Debian's libmaxmind-db-reader-perl and libmaxmind-db-writer-perl. Takes a few minutes.
#   bench/real-to-geoip2.pl [SOURCE.mmdb] [OUT.mmdb]
# Default OUT: geoip/real/geo-whois-asn-country-geoip2.mmdb (git-ignored with geoip/real/).
use strict;
use warnings;
use File::Basename qw(dirname);
use MaxMind::DB::Reader;
use MaxMind::DB::Writer::Tree;

my $repo = dirname(__FILE__) . '/..';
my $src  = shift // "$repo/geoip/real/geo-whois-asn-country.mmdb";
my $out  = shift // "$repo/geoip/real/geo-whois-asn-country-geoip2.mmdb";

# Country -> continent, from geodns' own table ({"AD", "EU", lat, lon}, ...).
my %continent;
{
    my $table = "$repo/src/geo/countries.cpp";
    open my $fh, '<', $table or die "$table: $!\n";
    local $/;
    my $text = <$fh>;
    while ( $text =~ /\{"([A-Z]{2})",\s*"([A-Z]{2})",/g ) { $continent{$1} = $2; }
    die "$table: no country table found\n" unless keys %continent > 200;
}

my $reader = MaxMind::DB::Reader->new( file => $src );
die "$src: expected an IPv6 tree\n" unless $reader->metadata->ip_version == 6;
my $nodes = $reader->metadata->node_count;

my %types = (
    country   => 'map',
    continent => 'map',
    iso_code  => 'utf8_string',
    code      => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version    => 6,
    record_size   => 28,
    database_type => 'GeoIP2-Country',
    languages     => ['en'],
    description   => { en => 'geo-whois-asn-country (CC0) in the GeoIP2 layout, for benchmarks' },
    map_key_type_callback    => sub { $types{ $_[0] } },
    remove_reserved_networks => 0,
    # As MaxMind's databases: ::ffff:0:0/96 and 2002::/16 reach the IPv4 records.
    alias_ipv6_to_ipv4 => 1,
);

# The reader's own iterator does Math::BigInt arithmetic per node (far too slow for 1.3 M
# nodes); this walk keeps the path as a bit string instead. Visited nodes are not entered
# again, so an aliased subtree (::ffff:0:0/96 -> ::/96) is copied once, as IPv4.
my %records;    # data offset -> record, decoded once per distinct record
my ( $networks, $unknown ) = ( 0, 0 );
my %seen;

sub address_of {    # bit string (prefix) -> "address/length"
    my ($bits) = @_;
    my $len = length $bits;
    if ( $len >= 96 && substr( $bits, 0, 96 ) !~ /1/ ) {    # ::/96: the IPv4 space
        my $v4 = substr( $bits . ( '0' x 128 ), 96, 32 );
        return join( '.', unpack 'C4', pack 'B32', $v4 ) . '/' . ( $len - 96 );
    }
    my $full = substr( $bits . ( '0' x 128 ), 0, 128 );
    my @w    = unpack 'n8', pack 'B128', $full;
    return join( ':', map { sprintf '%x', $_ } @w ) . "/$len";
}

sub walk {
    no warnings 'recursion';    # 128 levels deep at most
    my ( $node, $bits ) = @_;
    return if $seen{$node}++;
    my @rec = $reader->_read_node($node);
    for my $i ( 0, 1 ) {
        my $v    = $rec[$i];
        my $path = $bits . $i;
        next if $v == $nodes;    # empty
        if ( $v < $nodes ) {
            walk( $v, $path );
            next;
        }
        # 2002::/16 and ::ffff:0:0/96 in the source would collide with the writer's aliases.
        next if length($path) >= 16 && substr( $path, 0, 16 ) eq '0010000000000010';
        next
            if length($path) >= 96
            && substr( $path, 0, 96 ) eq ( '0' x 80 ) . ( '1' x 16 );
        my $data = $records{$v} //= $reader->_get_entry_data($v);
        my $cc   = $data->{country_code};
        next unless defined $cc;
        my %record = ( country => { iso_code => $cc } );
        if ( my $k = $continent{$cc} ) {
            $record{continent} = { code => $k };
        }
        else {
            ++$unknown;
        }
        $tree->insert_network( address_of($path), \%record );
        ++$networks;
    }
}
walk( 0, '' );

open my $fh, '>:raw', "$out.tmp" or die "$out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$out.tmp: $!\n";
rename "$out.tmp", $out or die "$out: $!\n";
print "wrote $out: $networks networks ($unknown with a country of no known continent)\n";
