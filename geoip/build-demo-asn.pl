#!/usr/bin/perl
# Builds geoip/demo-asn.mmdb (GeoLite2-ASN-like schema: autonomous_system_number and
# autonomous_system_organization) from geoip/demo-asn-source.csv, for tests of ASN map keys.
# Needs Debian's libmaxmind-db-writer-perl. Usage: build-demo-asn.pl [SOURCE.csv] [OUT.mmdb]
use strict;
use warnings;
use File::Basename qw(dirname);
use MaxMind::DB::Writer::Tree;

my $dir    = dirname(__FILE__);
my $source = shift // "$dir/demo-asn-source.csv";
my $out    = shift // "$dir/demo-asn.mmdb";

my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version    => 6,
    record_size   => 24,
    database_type => 'GeoLite2-ASN',
    languages     => ['en'],
    description   => { en => 'geodns demo ASN database (illustrative data, not for production)' },
    map_key_type_callback => sub { $types{ $_[0] } },
    # Like demo.mmdb, it maps documentation prefixes (192.0.2.0/24, 2001:db8::/32).
    remove_reserved_networks => 0,
    alias_ipv6_to_ipv4       => 1,
);

open my $in, '<:encoding(UTF-8)', $source or die "$source: $!\n";
my $count = 0;
while ( my $line = <$in> ) {
    chomp $line;
    $line =~ s/\r$//;
    next if $line =~ /^\s*(#|$)/;
    my @f = map { s/^\s+|\s+$//gr } split /,/, $line, 3;
    die "$source:$.: expected 3 fields, got " . scalar(@f) . "\n" unless @f == 3;
    my ( $network, $asn, $org ) = @f;
    die "$source:$.: bad network '$network'\n" unless $network =~ m{^[0-9A-Fa-f:.]+/\d+$};
    die "$source:$.: bad ASN '$asn'\n" unless $asn =~ /^\d+$/ && $asn > 0 && $asn < 2**32;
    $tree->insert_network( $network,
        { autonomous_system_number => $asn + 0, autonomous_system_organization => $org } );
    ++$count;
}
close $in;

open my $fh, '>:raw', "$out.tmp" or die "$out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$out.tmp: $!\n";
rename "$out.tmp", $out or die "$out: $!\n";
print "wrote $out: $count networks\n";
