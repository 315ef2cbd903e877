#!/usr/bin/env python3
# Raw-socket attacker for the hostile-input suite: sends UDP datagrams with a forged IPv4 source
# (IP_HDRINCL, RFC 791 header, RFC 768 UDP header and checksum) and sniffs UDP payloads between
# two ports (a SOCK_RAW/IPPROTO_UDP socket sees every UDP datagram the host receives).
#
# Protocol: one JSON object per line on stdin, one JSON reply per line on stdout.
#   {"op":"send","src":["127.0.0.1",p],"dst":["127.0.0.1",q],"payloads":[b64...],"checksum":"zero"|"valid"|"bad"}
#   {"op":"flood","src":..,"dst":..,"count":n,"seed":s,"minLen":a,"maxLen":b,"firstBytes":[..],"burst":k}
#   {"op":"capture","src":..,"dst":..,"max":n,"ms":t,"firstByteMin":x,"firstByteMax":y,"secondByte":z?}
# Needs CAP_NET_RAW (root). Bounded: every op has a count and capture a time limit.
import base64
import json
import random
import select
import socket
import struct
import sys
import time


def checksum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


STUN_COOKIE = b"\x21\x12\xa4\x42"


def datagrams(payload: bytes, whole: bytes):
    """The datagram as the UDP header bounds it, then, for a GSO send (a raw socket on lo sees the
    unsegmented super-packet: several same-size datagrams, the last one possibly shorter), a STUN
    message that is its last segment (RFC 8489 §5: the cookie at offset 4, the length field ending
    the message exactly at the end). A consent check queued in the same flush as media to the same
    peer leaves that way."""
    yield payload
    k = whole.find(STUN_COOKIE, 24)
    while k >= 0:
        at = k - 4
        if whole[at] < 4 and at + 20 + ((whole[at + 2] << 8) | whole[at + 3]) == len(whole):
            yield whole[at:]
            return
        k = whole.find(STUN_COOKIE, k + 1)


def datagram(src, dst, payload: bytes, mode: str) -> bytes:
    ulen = 8 + len(payload)
    udp = struct.pack("!HHHH", src[1], dst[1], ulen, 0) + payload
    csum = 0
    if mode != "zero":
        pseudo = socket.inet_aton(src[0]) + socket.inet_aton(dst[0]) + struct.pack("!BBH", 0, socket.IPPROTO_UDP, ulen)
        csum = checksum16(pseudo + udp) or 0xFFFF  # RFC 768: a computed 0 is sent as all ones
        if mode == "bad":
            csum = (csum ^ 0x5A5A) or 1
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    # The kernel fills the IP checksum and total length (raw(7)); the id is ours.
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, random.randint(0, 0xFFFF), 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(src[0]), socket.inet_aton(dst[0]))
    return ip + udp


class Attacker:
    def __init__(self):
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.tx.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        self.tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)

    def send_all(self, src, dst, payloads, mode, burst=0):
        sent = 0
        for i, p in enumerate(payloads):
            pkt = datagram(src, dst, p, mode)
            for _ in range(100):
                try:
                    self.tx.sendto(pkt, (dst[0], 0))
                    break
                except BlockingIOError:
                    time.sleep(0.001)
                except OSError as e:  # ENOBUFS under a flood: back off, retry
                    if e.errno != 105:
                        raise
                    time.sleep(0.001)
            sent += 1
            if burst and (i + 1) % burst == 0:
                time.sleep(0.0005)
        return sent

    def capture(self, src, dst, limit, ms, lo, hi, second=None):
        rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        out = []
        deadline = time.monotonic() + ms / 1000.0
        try:
            while len(out) < limit:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                r, _, _ = select.select([rx], [], [], left)
                if not r:
                    break
                pkt, _ = rx.recvfrom(65535)
                ihl = (pkt[0] & 0x0F) * 4
                if len(pkt) < ihl + 8:
                    continue
                sa = socket.inet_ntoa(pkt[12:16])
                da = socket.inet_ntoa(pkt[16:20])
                sp, dp, ulen = struct.unpack("!HHH", pkt[ihl:ihl + 6])
                if (sa, sp) != tuple(src) or (da, dp) != tuple(dst):
                    continue
                for payload in datagrams(pkt[ihl + 8:ihl + ulen], pkt[ihl + 8:]):
                    if not payload or not (lo <= payload[0] <= hi):
                        continue
                    if second is not None and (len(payload) < 2 or payload[1] != second):
                        continue
                    out.append(base64.b64encode(payload).decode())
                    break
        finally:
            rx.close()
        return out


def main():
    try:
        a = Attacker()
    except PermissionError as e:
        print(json.dumps({"ok": False, "error": "no raw socket: %s" % e}), flush=True)
        return
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
            op = cmd["op"]
            src = (cmd["src"][0], int(cmd["src"][1]))
            dst = (cmd["dst"][0], int(cmd["dst"][1]))
            if op == "send":
                payloads = [base64.b64decode(p) for p in cmd["payloads"]]
                n = a.send_all(src, dst, payloads, cmd.get("checksum", "zero"), cmd.get("burst", 0))
                reply = {"ok": True, "sent": n}
            elif op == "flood":
                rng = random.Random(cmd["seed"])
                firsts = cmd.get("firstBytes") or list(range(256))
                lo, hi = cmd["minLen"], cmd["maxLen"]

                def gen():
                    for _ in range(cmd["count"]):
                        n = rng.randint(lo, hi)
                        body = bytearray(rng.randbytes(min(n, 24))) + bytes(max(0, n - 24))
                        if n > 0:
                            body[0] = rng.choice(firsts)
                        yield bytes(body)

                n = a.send_all(src, dst, gen(), cmd.get("checksum", "zero"), cmd.get("burst", 0))
                reply = {"ok": True, "sent": n}
            elif op == "capture":
                got = a.capture(src, dst, cmd["max"], cmd["ms"], cmd.get("firstByteMin", 0), cmd.get("firstByteMax", 255),
                                cmd.get("secondByte"))
                reply = {"ok": True, "payloads": got}
            else:
                reply = {"ok": False, "error": "unknown op %s" % op}
        except Exception as e:  # a bad command is reported, the helper keeps serving
            reply = {"ok": False, "error": repr(e)}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
