#!/usr/bin/perl
# Builds geoip/demo.mmdb (GeoIP2-City-like schema) from geoip/demo-source.csv.
# Needs Debian's libmaxmind-db-writer-perl. Usage: build-demo.pl [SOURCE.csv] [OUT.mmdb]
use strict;
use warnings;
use File::Basename qw(dirname);
use MaxMind::DB::Writer::Tree;

my $dir    = dirname(__FILE__);
my $source = shift // "$dir/demo-source.csv";
my $out    = shift // "$dir/demo.mmdb";

# The writer needs the MMDB type of every map key it meets.
my %types = (
    country      => 'map',
    continent    => 'map',
    subdivisions => [ 'array', 'map' ],
    location     => 'map',
    iso_code     => 'utf8_string',
    code         => 'utf8_string',
    latitude     => 'double',
    longitude    => 'double',
);

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version    => 6,
    record_size   => 28,
    # gdnsd and other GeoIP2 readers check the type; "City" promises the location fields.
    database_type => 'GeoIP2-City',
    languages     => ['en'],
    description   => { en => 'geodns demo database (illustrative data, not for production)' },
    map_key_type_callback => sub { $types{ $_[0] } },
    # The demo deliberately maps documentation prefixes (192.0.2.0/24, 2001:db8::/32).
    remove_reserved_networks => 0,
    # ::ffff:a.b.c.d and 2002::/16 (6to4) reach the IPv4 records, as in MaxMind's databases.
    alias_ipv6_to_ipv4 => 1,
);

open my $in, '<:encoding(UTF-8)', $source or die "$source: $!\n";
my $count = 0;
while ( my $line = <$in> ) {
    chomp $line;
    $line =~ s/\r$//;
    next if $line =~ /^\s*(#|$)/;
    my @f = map { s/^\s+|\s+$//gr } split /,/, $line, -1;
    die "$source:$.: expected 6 fields, got " . scalar(@f) . "\n" unless @f == 6;
    my ( $network, $country, $continent, $subdivision, $lat, $lon ) = @f;
    die "$source:$.: bad network '$network'\n"
        unless $network =~ m{^[0-9A-Fa-f:.]+/\d+$};
    die "$source:$.: bad country '$country'\n"   unless $country   =~ /^[A-Z]{2}$/;
    die "$source:$.: bad continent '$continent'\n"
        unless $continent =~ /^(AF|AN|AS|EU|NA|OC|SA)$/;

    my %record = (
        country   => { iso_code => $country },
        continent => { code     => $continent },
    );
    $record{subdivisions} = [ { iso_code => $subdivision } ] if length $subdivision;
    if ( length $lat || length $lon ) {
        die "$source:$.: latitude and longitude go together\n"
            unless length $lat && length $lon;
        die "$source:$.: bad coordinates '$lat,$lon'\n"
            unless $lat =~ /^-?\d+(\.\d+)?$/ && $lon =~ /^-?\d+(\.\d+)?$/
            && abs($lat) <= 90 && abs($lon) <= 180;
        $record{location} = { latitude => $lat + 0, longitude => $lon + 0 };
    }
    $tree->insert_network( $network, \%record );
    ++$count;
}
close $in;

open my $fh, '>:raw', "$out.tmp" or die "$out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$out.tmp: $!\n";
rename "$out.tmp", $out or die "$out: $!\n";
print "wrote $out: $count networks\n";
