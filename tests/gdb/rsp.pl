#!/usr/bin/perl
# A raw GDB remote-protocol client for gdb.sh, for what gdb itself will
# not do on command:
#   rsp.pl interrupt SOCKET  continue, send Ctrl-C, print the stop reply,
#                            then kill
#   rsp.pl garbage SOCKET    a hostile stream (noise, bad checksums, an
#                            overlong packet, malformed packets with right
#                            checksums), then '?': prints "alive" and the
#                            reply if the stub still answers; then hangs up
use strict;
use warnings;
use IO::Socket::UNIX;
use Socket;

my ($mode, $path) = @ARGV;
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path)
	or die "connect $path: $!\n";
$s->autoflush(1);

sub pkt {
	my $d = shift;
	my $sum = 0;
	$sum += ord($_) for split //, $d;
	return sprintf('$%s#%02x', $d, $sum & 255);
}

my $buf = '';
# The next packet's payload (acks and other bytes before it skipped).
sub reply {
	my $until = time + 10;
	while (time < $until) {
		if ($buf =~ s/^[^\$]*\$([^#]*)#[0-9a-f]{2}//s) {
			return $1;
		}
		my $rin = '';
		vec($rin, fileno($s), 1) = 1;
		next unless select($rin, undef, undef, 1);
		my $n = sysread($s, my $b, 65536);
		return undef unless $n;
		$buf .= $b;
	}
	return undef;
}

sub drain {
	my $rin = '';
	vec($rin, fileno($s), 1) = 1;
	while (select(my $r = $rin, undef, undef, 0.2)) {
		last unless sysread($s, my $b, 65536);
	}
	$buf = '';
}

if ($mode eq 'interrupt') {
	print $s pkt('?');
	reply();
	print $s pkt('vCont;c:1');
	select(undef, undef, undef, 0.5);
	drain();
	print $s "\x03";
	my $r = reply();
	print defined $r ? "stop $r\n" : "no reply\n";
	print $s pkt('k');
	exit 0;
}

srand(42);
my @bad = (
	'm', 'mzz,1', 'm1ffffffffffffffff,1', 'm0,ffffffffffffffff', 'm0,', 'm,4',
	'M0,4:zz', 'M0,ffffffff:00', 'M0,2:0', 'X0,2:}', 'X0,1:}}}', 'X0,ffffff:',
	'X80000000,1:a', 'G1', 'Gzzzz', 'p', 'p99999', 'pfffffffffffffffffff', 'P0=',
	'P0=zz', 'P99=00000000', 'Z0', 'Z0,', 'Z9,0,0', 'Z2,1000,0', 'Z2,1000,ffffffff',
	'z0,5,1', 'z2,1,1', 'vCont;', 'vCont;x', 'vCont;C', 'vCont;c:zz', 'vCont;s:',
	'qRcmd,4', 'qRcmd,zz', 'qRcmd,' . ('41' x 300), 'qRcmd,6e6f6e65',
	'qXfer:features:read:target.xml:ffffffffffff,ffff',
	'qXfer:features:read:target.xml:0,ffffffffffffffff',
	'qXfer:features:read:other.xml:0,10', 'qXfer:', 'H', 'Hg', 'T', '', 'q', 'Q',
	'vMustReplyEmpty', 'qSupported:xmlRegisters=i386', 'QStartNoAckMode',
);
for my $round (1 .. 4) {
	my $noise = join '', map { chr(int(rand(256))) } 1 .. 16384;
	$noise =~ tr/\x03//d; # Ctrl-C is a legal byte; it would only stop
	$noise =~ s/\$[cCsSDk]/x/g; # no resume, detach or kill by chance
	print $s $noise;
	print $s '$' . ('A' x 10000) . '#00';
	print $s '$' . ('B' x 5000) . pkt('?');
	print $s '$g#zz', '$g#0', '$g', '#', '}', '-', '+';
	print $s pkt($_) for @bad;
	print $s pkt('m0,' . sprintf('%x', 4096 * $round));
	drain();
}
print $s pkt('?');
my $r = reply();
print defined $r ? "alive $r\n" : "dead\n";
close($s); # without a word: the stub must take it as a detach
