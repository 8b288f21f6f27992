/**
 * The SSRF guard of outgoing webhooks (docs/channels.md, "Webhook"): a routes file names the URL,
 * so without a guard anyone who can edit routes could make Klaxon's Lambda POST to the instance
 * metadata service, a VPC-internal admin endpoint or localhost. Standard Webhooks' guidance:
 * "protect against SSRF: block private ranges"
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
 * "Security considerations").
 *
 * The guard classifies each address the host resolves to (IANA special-purpose registries:
 * https://www.iana.org/assignments/iana-ipv4-special-registry,
 * https://www.iana.org/assignments/iana-ipv6-special-registry). The HTTP client applies it at
 * connect time (the socket's DNS lookup), so a name that resolves to a public address when checked
 * and a private one when connecting (DNS rebinding) is refused too.
 */
import { BlockList, isIP } from 'node:net';

/** What an address is, for the guard. */
export const ADDRESS_CLASSES = ['public', 'private', 'loopback', 'link-local', 'metadata', 'unspecified', 'multicast', 'reserved'] as const;
/** One of {@link ADDRESS_CLASSES}. */
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

/** Classes a deployment may allow (`webhooks.allowPrivateTargets`; local mode does). */
const PRIVATE_CLASSES: ReadonlySet<AddressClass> = new Set(['private', 'loopback', 'link-local']);

function list(entries: readonly (readonly [string, number, 'ipv4' | 'ipv6'])[]): BlockList {
  const b = new BlockList();
  for (const [net, prefix, type] of entries) b.addSubnet(net, prefix, type);
  return b;
}

/** Checked in this order: the first class whose list holds the address wins. */
const RANGES: readonly (readonly [AddressClass, BlockList])[] = [
  // AWS instance metadata (IMDS v4 and v6), the ECS task metadata endpoint, the Amazon DNS and time servers.
  ['metadata', list([['169.254.169.254', 32, 'ipv4'], ['169.254.170.2', 32, 'ipv4'], ['169.254.169.253', 32, 'ipv4'], ['169.254.169.123', 32, 'ipv4'], ['fd00:ec2::254', 128, 'ipv6'], ['fd00:ec2::23', 128, 'ipv6']])],
  ['unspecified', list([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']])],
  ['loopback', list([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']])],
  ['link-local', list([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']])],
  // RFC 1918, carrier-grade NAT (RFC 6598), IPv6 unique local (RFC 4193).
  ['private', list([['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['fc00::', 7, 'ipv6']])],
  ['multicast', list([['224.0.0.0', 4, 'ipv4'], ['ff00::', 8, 'ipv6']])],
  // IETF protocol assignments, documentation, benchmarking, reserved and broadcast; IPv6 documentation and discard-only.
  ['reserved', list([['192.0.0.0', 24, 'ipv4'], ['192.0.2.0', 24, 'ipv4'], ['198.18.0.0', 15, 'ipv4'], ['198.51.100.0', 24, 'ipv4'], ['203.0.113.0', 24, 'ipv4'], ['240.0.0.0', 4, 'ipv4'], ['2001:db8::', 32, 'ipv6'], ['100::', 64, 'ipv6']])],
];

/** The IPv4 address an IPv6 one carries (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`), if any. */
function embeddedIpv4(v6: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(v6);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The class of an IP address (v4 or v6, brackets allowed); `reserved` for text that is not an address. */
export function classifyAddress(address: string): AddressClass {
  const a = address.replace(/^\[|\]$/g, '');
  const v = isIP(a);
  if (v === 0) return 'reserved';
  if (v === 6) {
    const v4 = embeddedIpv4(a);
    if (v4) return classifyAddress(v4);
  }
  const type = v === 4 ? 'ipv4' : 'ipv6';
  for (const [cls, b] of RANGES) if (b.check(a, type)) return cls;
  return 'public';
}

/**
 * Whether a webhook may connect to this address: public always; private, loopback and link-local
 * only when the deployment allows private targets; metadata, unspecified, multicast and reserved
 * never (no webhook receiver lives there). Undefined when allowed, else the reason.
 */
export function refuseAddress(address: string, allowPrivate: boolean): string | undefined {
  const cls = classifyAddress(address);
  if (cls === 'public') return undefined;
  if (allowPrivate && PRIVATE_CLASSES.has(cls)) return undefined;
  const hint = PRIVATE_CLASSES.has(cls) ? ' (set webhooks.allowPrivateTargets in the deployment config to allow private targets)' : '';
  return `refused: ${address} is a ${cls} address${hint}`;
}
