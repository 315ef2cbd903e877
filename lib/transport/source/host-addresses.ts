// Host candidate addresses (RFC 8445 §5.1.1.1): every usable interface address, IPv4 and IPv6,
// optionally restricted (loopback only for tests, named interfaces, explicit addresses).
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { OperationError } from '../../common/errors.js';
import { canonicalIp } from '../../ice/transport-address.js';

/**
 * os.networkInterfaces(), whose failure (EMFILE when the process is out of descriptors) is a
 * typed OperationError `ERR_HOST_ADDRESSES` rather than Node's SystemError.
 */
export function interfaceAddresses(): NodeJS.Dict<NetworkInterfaceInfo[]> {
  try {
    return networkInterfaces();
  } catch (err) {
    throw new OperationError('ERR_HOST_ADDRESSES', `listing the host's network interfaces failed: ${(err as Error).message}`);
  }
}

/** Which local addresses become host candidates. */
export interface HostAddressOptions {
  /** Use exactly these local addresses (e.g. ['127.0.0.1']); the other filters are ignored. */
  addresses?: readonly string[];
  /** Only these interface names (e.g. ['eth0']). */
  interfaces?: readonly string[];
  /** Include loopback interfaces (default false, or true when nothing else exists). */
  loopback?: boolean;
  /** Include IPv4 (default true) / IPv6 (default true) addresses. */
  ipv4?: boolean;
  ipv6?: boolean;
  /** Include link-local IPv6 (fe80::/10; default false: they need scope ids). */
  linkLocal?: boolean;
}

/** Local addresses to bind host candidates on, in preference order (IPv6 first, RFC 8421). */
export function listHostAddresses(options: HostAddressOptions = {}): string[] {
  if (options.addresses) return options.addresses.map(canonicalIp);
  const v4: string[] = [];
  const v6: string[] = [];
  const loop: string[] = [];
  for (const [name, infos] of Object.entries(interfaceAddresses())) {
    if (options.interfaces && !options.interfaces.includes(name)) continue;
    for (const info of infos ?? []) {
      const family = info.family === 'IPv6' ? 6 : 4;
      if (family === 4 && options.ipv4 === false) continue;
      if (family === 6 && options.ipv6 === false) continue;
      if (family === 6 && /^fe[89ab]/i.test(info.address) && !options.linkLocal) continue;
      if (info.internal) {
        if (options.loopback) loop.push(canonicalIp(info.address));
        continue;
      }
      (family === 6 ? v6 : v4).push(canonicalIp(info.address));
    }
  }
  const all = [...v6, ...v4, ...loop];
  if (all.length === 0 && options.loopback === undefined && options.ipv4 !== false) return ['127.0.0.1'];
  return all;
}
