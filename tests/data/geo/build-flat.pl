#!/usr/bin/perl
# Builds the flat-schema test databases from flat.csv:
#   flat.mmdb     ip_version 6 (IPv4 rows under ::/96), as the ip-location-db packages ship
#   flat-v4.mmdb  ip_version 4, IPv4 rows only, to test lookups in an IPv4-only tree
# Coordinates are stored as 'float', as in the ip-location-db city databases.
# Needs Debian's libmaxmind-db-writer-perl. Usage: build-flat.pl [SOURCE.csv] [OUTDIR]
use strict;
use warnings;
use File::Basename qw(dirname);
use MaxMind::DB::Writer::Tree;

my $dir    = dirname(__FILE__);
my $source = shift // "$dir/flat.csv";
my $outdir = shift // $dir;

my %types = (
    country_code   => 'utf8_string',
    continent_code => 'utf8_string',
    state1         => 'utf8_string',
    subdivision    => 'utf8_string',
    latitude       => 'float',
    longitude      => 'float',
);

my @rows;
open my $in, '<:encoding(UTF-8)', $source or die "$source: $!\n";
while ( my $line = <$in> ) {
    chomp $line;
    next if $line =~ /^\s*(#|$)/;
    my @f = split /,/, $line, -1;
    die "$source:$.: expected 7 fields\n" unless @f == 7;
    my ( $network, %record );
    ( $network, @record{qw(country_code continent_code state1 subdivision latitude longitude)} )
        = @f;
    for my $k ( keys %record ) {
        delete $record{$k} unless length $record{$k};
    }
    for my $k (qw(latitude longitude)) {
        $record{$k} += 0 if exists $record{$k};
    }
    push @rows, [ $network, \%record ];
}
close $in;

sub write_db {
    my ( $ip_version, $out ) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version               => $ip_version,
        record_size              => 24,
        database_type            => 'geodns-flat-test',
        languages                => ['en'],
        description              => { en => 'geodns flat-schema test database' },
        map_key_type_callback    => sub { $types{ $_[0] } },
        remove_reserved_networks => 0,
    );
    my $n = 0;
    for my $row (@rows) {
        next if $ip_version == 4 && $row->[0] =~ /:/;
        $tree->insert_network( $row->[0], $row->[1] );
        ++$n;
    }
    open my $fh, '>:raw', $out or die "$out: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$out: $!\n";
    print "wrote $out: $n networks\n";
}

write_db( 6, "$outdir/flat.mmdb" );
write_db( 4, "$outdir/flat-v4.mmdb" );
