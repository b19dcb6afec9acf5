"""An NB-IoT module played by aiocoap + DTLSSocket (tinydtls): an independent CoAP/DTLS stack.

Registers with `POST /rd`, serves /19/0/0 (observable) and /19/1/0 on the same DTLS session,
sends one notification after the server's Observe arrives, prints what happens, then waits.
Any other path is answered 4.04 by aiocoap, as a module does.
Usage: aiocoap_device.py PORT ENDPOINT PSK_HEX [OBJECT_LIST [DATA_PATH DOWNLINK_PATH]]
  e.g. '</1/0>,</t/d>' t/d t/d for a TUP module without object 19; an OBJECT_LIST alone
  announces no data resource and serves none.
"""
import asyncio
import sys

import aiocoap
import aiocoap.resource as resource


class Data(resource.ObservableResource):
    def __init__(self):
        super().__init__()
        self.value = b""
        self.observed = asyncio.Event()

    async def add_observation(self, request, serverobservation):
        await super().add_observation(request, serverobservation)
        print("OBSERVED", flush=True)
        self.observed.set()

    async def render_get(self, request):
        return aiocoap.Message(code=aiocoap.CONTENT, payload=self.value)

    async def render_post(self, request):
        # TUP: /t/d carries data up and commands down.
        print("DOWNLINK", request.payload.hex(), flush=True)
        return aiocoap.Message(code=aiocoap.CHANGED)


class Downlink(resource.Resource):
    async def render_post(self, request):
        print("DOWNLINK", request.payload.hex(), flush=True)
        return aiocoap.Message(code=aiocoap.CHANGED)

    async def render_put(self, request):
        return await self.render_post(request)


async def main(port, endpoint, psk_hex, objects="</1/0>,</19/0>,</19/1>", data_path="19/0/0", downlink_path="19/1/0"):
    data = Data()
    site = resource.Site()
    if data_path:
        site.add_resource(data_path.split("/"), data)
        if downlink_path != data_path:
            site.add_resource(downlink_path.split("/"), Downlink())
    context = await aiocoap.Context.create_client_context(transports=["tinydtls"])
    context.serversite = site
    context.client_credentials.load_from_dict({
        f"coaps://127.0.0.1:{port}/*": {"dtls": {"psk": {"hex": psk_hex}, "client-identity": {"ascii": endpoint}}},
    })
    request = aiocoap.Message(code=aiocoap.POST, uri=f"coaps://127.0.0.1:{port}/rd?ep={endpoint}&lt=300&lwm2m=1.0&b=U",
                              payload=objects.encode(), content_format=40)
    response = await context.request(request).response
    print("REGISTERED", response.code, "/".join(response.opt.location_path), flush=True)
    if not data_path:
        await asyncio.sleep(30)
        return
    await asyncio.wait_for(data.observed.wait(), timeout=10)
    await asyncio.sleep(0.2)
    data.value = bytes([0x01, 0x2A])
    data.updated_state()
    print("NOTIFIED", flush=True)
    await asyncio.sleep(30)


if __name__ == "__main__":
    arguments = sys.argv[4:]
    if len(arguments) == 1:
        arguments.append("")
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], *arguments))
