"""An unprovisioned NB-IoT module played by aiocoap + DTLSSocket (tinydtls), an independent
CoAP/DTLS stack: client-initiated bootstrap, then registration with the written account.

Sends `POST /bs?ep=` over DTLS-PSK with the bootstrap key and serves the bootstrap interface on
the same session: `GET /` (Discover: the bootstrap account at /0/0), Deletes, TLV Writes of /0/x
and /1/x, `POST /bs` (Finish). Then it registers with the written URI, identity and key as
aiocoap_device.py does (Observe, one notification). Prints each request, BOOTSTRAPPED and what
aiocoap_device.py prints.
Usage: aiocoap_bootstrap_device.py BOOTSTRAP_PORT ENDPOINT BOOTSTRAP_PSK_HEX
"""
import asyncio
import sys
from urllib.parse import urlsplit

import aiocoap
import aiocoap.resource as resource

import aiocoap_device


def decode_tlv(data):
    """LwM2M TLV (OMA-TS-LightweightM2M V1_0 §6.4.3): [(kind, id, value or children)]."""
    entries = []
    at = 0
    while at < len(data):
        kind_byte = data[at]
        at += 1
        id_length = 2 if kind_byte & 0x20 else 1
        identifier = int.from_bytes(data[at:at + id_length], "big")
        at += id_length
        length_type = (kind_byte >> 3) & 0x03
        if length_type == 0:
            length = kind_byte & 0x07
        else:
            length = int.from_bytes(data[at:at + length_type], "big")
            at += length_type
        value = data[at:at + length]
        at += length
        kind = kind_byte >> 6
        entries.append((kind, identifier, decode_tlv(value) if kind in (0, 2) else value))
    return entries


class BootstrapInterface(resource.Resource):
    """One path of the bootstrap interface; what the server writes lands in `device.written`."""

    def __init__(self, device, path):
        super().__init__()
        self.device = device
        self.path = path

    def answer(self, method, code, **kwargs):
        print("REQUEST", method, "/" + "/".join(self.path), code.dotted, flush=True)
        return aiocoap.Message(code=code, **kwargs)

    async def render_get(self, request):
        if self.path:
            return self.answer("GET", aiocoap.NOT_FOUND)
        links = b'lwm2m="1.1",</0/0>,</1>,</3/0>'
        return self.answer("GET", aiocoap.CONTENT, payload=links, content_format=40)

    async def render_delete(self, request):
        return self.answer("DELETE", aiocoap.DELETED)

    async def render_put(self, request):
        entries = decode_tlv(request.payload)
        if len(self.path) == 2 and entries and entries[0][0] == 0:
            resources = {identifier: value for kind, identifier, value in entries[0][2] if kind == 3}
            self.device.written[self.path] = resources
        return self.answer("PUT", aiocoap.CHANGED)

    async def render_post(self, request):
        if self.path != ("bs",):
            return self.answer("POST", aiocoap.METHOD_NOT_ALLOWED)
        self.device.finished.set()
        return self.answer("POST", aiocoap.CHANGED)


class Device:
    def __init__(self):
        self.written = {}
        self.finished = asyncio.Event()

    def account(self):
        security = next(resources for path, resources in self.written.items() if path[0] == "0" and not resources.get(1, b"\x00")[0])
        return security[0].decode(), security[3].decode(), security[5]


async def main(port, endpoint, psk_hex):
    device = Device()
    site = resource.Site()
    for path in [(), ("0",), ("1",), ("0", "0"), ("0", "1"), ("0", "2"), ("1", "0"), ("1", "1"), ("bs",)]:
        site.add_resource(path, BootstrapInterface(device, path))
    context = await aiocoap.Context.create_client_context(transports=["tinydtls"])
    context.serversite = site
    context.client_credentials.load_from_dict({
        f"coaps://127.0.0.1:{port}/*": {"dtls": {"psk": {"hex": psk_hex}, "client-identity": {"ascii": endpoint}}},
    })
    request = aiocoap.Message(code=aiocoap.POST, uri=f"coaps://127.0.0.1:{port}/bs?ep={endpoint}")
    response = await context.request(request).response
    print("BOOTSTRAP_ANSWERED", response.code.dotted, flush=True)
    await asyncio.wait_for(device.finished.wait(), timeout=10)
    uri, identity, key = device.account()
    print("BOOTSTRAPPED", uri, "identity", identity, "key bytes", len(key), flush=True)
    await asyncio.sleep(0.2)  # the Finish answer leaves before the session goes
    await context.shutdown()
    server = urlsplit(uri)
    if server.hostname != "127.0.0.1" or identity != endpoint:
        print("UNEXPECTED ACCOUNT", uri, identity, flush=True)
        return
    await aiocoap_device.main(server.port, endpoint, key.hex())


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
