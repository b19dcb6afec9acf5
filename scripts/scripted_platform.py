#!/usr/bin/env python3
"""A scripted stand-in for Huawei IoTDA on a real MQTT broker (tests and `make demo`).

It connects to the broker as a privileged user, records every message gateways publish on
`$oc/devices/+/sys/#` (one JSON line each in --record), checks each against the platform's
rules (docs/cloudlink.md, spec §2), answers the `$sub_device_manager` requests the way the
platform does, and sends what it is told on stdin:

    {"publish": {"topic": "...", "payload": {...}}}
    {"command": {"device_id": "GW", "object_device_id": "CHILD", "service_id": "s",
                 "command_name": "c", "paras": {}}}
    {"add_notify": {"device_id": "GW", "devices": [{"node_id": "n", "product_id": "p"}]}}
    {"delete_notify": {"device_id": "GW", "device_ids": ["p_n"]}}
    {"ota": {"device_id": "GW", "object_device_id": "CHILD", "event_type": "software_upgrade",
             "paras": {"version": "V2.0", "url": "https://...", "file_size": 1, "sign": "..."}}}

`--summary RECORD` prints what a --record file holds, counted (the end of `make demo`);
with `--package-log LOG` also the GETs a package server logged (Tests/PackageCacheTests/https_server.py).

CONNECT credentials are checked by the broker itself (password file made for the expected
hour's HMAC password, ACL per device id): paho is a client and never sees other clients'
CONNECT packets.
"""
import argparse
import json
import signal
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt

MAX_BATCH_CHILDREN = 100        # gateway batch property report (UG 2.1.2.8.2)
MAX_STATUS_ENTRIES = 100        # sub_device_update_status (UG 2.1.2.7.4)
MAX_MANAGED_DEVICES = 50        # add/delete/update request (UG 2.1.2.7.9/.11/.13)
# The platform's system services (spec §2.4); any other "$" service is refused.
SYSTEM_SERVICES = {"$log", "$device_info", "$sdk_info", "$time_sync", "$file_manager", "$ota",
                   "$sub_device_manager", "$sub_device_discovery"}
# Topics the platform itself publishes (spec §2.1): not recorded, not checked as uplink.
DOWNLINK_PREFIXES = ("events/down", "messages/down", "commands/request_id=", "properties/set/request_id=",
                     "properties/get/request_id=", "shadow/get/response/")


def now_event_time():
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


class Platform:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.record = open(args.record, "a", buffering=1) if args.record else None
        self.version = 0
        # gateway device id -> {child device_id: DeviceInfo}
        self.children = {}
        # (version, kind, gateway, DeviceInfo) for sync requests
        self.changes = []
        # gateway device id -> child device_ids deleted and not added again: anything the
        # gateway sends about them is flagged (the platform answers IOTDA.021104 over HTTPS)
        self.deleted = {}
        # A named session is persistent (clean session off): the broker keeps the subscription
        # and queues what gateways publish while the platform is away or the broker restarts,
        # so every message the broker acknowledged is recorded, as on the real platform.
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=args.session or f"scripted-platform-{uuid.uuid4().hex[:8]}",
                                  clean_session=not args.session, protocol=mqtt.MQTTv311)
        if args.session:
            self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.username_pw_set(args.username, args.password)
        if args.ca_file:
            self.client.tls_set(ca_certs=args.ca_file)
        self.client.on_connect = self.on_connect
        self.client.on_message = self.on_message

    # --- wire ---

    def on_connect(self, client, userdata, flags, reason_code, properties):
        client.subscribe("$oc/devices/+/sys/#", qos=1)
        print(f"platform: connected ({reason_code})", flush=True)

    def publish(self, topic, payload):
        data = payload if isinstance(payload, (bytes, str)) else json.dumps(payload, separators=(",", ":"))
        self.client.publish(topic, data, qos=1)

    def on_message(self, client, userdata, message):
        parts = message.topic.split("/")
        gateway = parts[2] if len(parts) > 3 else ""
        suffix = "/".join(parts[4:])
        if suffix.startswith(DOWNLINK_PREFIXES):
            return
        try:
            body = json.loads(message.payload)
        except ValueError:
            body = None
        problems = self.validate(suffix, body, gateway)
        entry = {"time": time.time(), "topic": message.topic, "payload": message.payload.decode("utf-8", "replace"),
                 "problems": problems}
        with self.lock:
            if self.record:
                self.record.write(json.dumps(entry) + "\n")
        if problems:
            print(f"platform: {message.topic}: {'; '.join(problems)}", file=sys.stderr, flush=True)
        if self.args.show:
            self.show(suffix, body)
        if suffix == "events/up" and isinstance(body, dict):
            for service in body.get("services") or []:
                if isinstance(service, dict) and service.get("service_id") == "$sub_device_manager":
                    self.answer(gateway, service)

    def show(self, suffix, body):
        """One readable line per uplink message, for `make demo`."""
        if not isinstance(body, dict):
            return
        if suffix == "gateway/sub_devices/properties/report":
            for device in body.get("devices") or []:
                for service in device.get("services") or []:
                    values = ", ".join(f"{k}={json.dumps(v)}" for k, v in (service.get("properties") or {}).items())
                    print(f"cloud <- {device.get('device_id')} {service.get('service_id')}: {values}", flush=True)
        elif suffix == "events/up":
            for service in body.get("services") or []:
                if isinstance(service, dict) and service.get("service_id") == "$ota":
                    print(f"cloud <- {ota_line(body.get('object_device_id'), service)}", flush=True)
                    continue
                paras = json.dumps(service.get("paras"), separators=(",", ":"))
                print(f"cloud <- event {service.get('event_type')} {paras[:160]}", flush=True)
        elif suffix == "messages/up":
            content = json.dumps(body.get("content"), separators=(",", ":"))
            print(f"cloud <- message {body.get('name')} from {body.get('object_device_id')}: {content[:400]}", flush=True)
        elif suffix.startswith("commands/response/"):
            print(f"cloud <- command response {suffix.split('=', 1)[-1]}: {json.dumps(body, separators=(',', ':'))}", flush=True)

    # --- checks ---

    def validate(self, suffix, body, gateway=""):
        problems = []
        with self.lock:
            deleted = set(self.deleted.get(gateway, ()))
        if body is None:
            return ["payload is not JSON"]
        if not isinstance(body, dict):
            return ["payload is not a JSON object"]
        if suffix == "gateway/sub_devices/properties/report":
            devices = body.get("devices")
            if not isinstance(devices, list) or not devices:
                problems.append("devices missing or empty")
            else:
                if len(devices) > MAX_BATCH_CHILDREN:
                    problems.append(f"{len(devices)} children in one batch (max {MAX_BATCH_CHILDREN})")
                for d in devices:
                    if not isinstance(d, dict) or not isinstance(d.get("device_id"), str):
                        problems.append("a device without device_id")
                    elif not isinstance(d.get("services"), list):
                        problems.append(f"{d['device_id']}: services missing")
                    elif d["device_id"] in deleted:
                        problems.append(f"properties of {d['device_id']}, which the platform deleted")
        elif suffix == "properties/report":
            if not isinstance(body.get("services"), list):
                problems.append("services missing")
        elif suffix == "events/up":
            services = body.get("services")
            if not isinstance(services, list) or not services:
                return ["services missing or empty"]
            for s in services:
                if not isinstance(s, dict) or not s.get("service_id") or not s.get("event_type"):
                    problems.append("a service without service_id or event_type")
                    continue
                if s["service_id"].startswith("$") and s["service_id"] not in SYSTEM_SERVICES:
                    problems.append(f"{s['service_id']} is not a system service of the platform")
                paras = s.get("paras") or {}
                kind = s["event_type"]
                if kind == "sub_device_update_status":
                    statuses = paras.get("device_statuses") or []
                    if not 1 <= len(statuses) <= MAX_STATUS_ENTRIES:
                        problems.append(f"{len(statuses)} statuses (1-{MAX_STATUS_ENTRIES})")
                    for st in statuses:
                        if st.get("status") not in ("ONLINE", "OFFLINE"):
                            problems.append(f"status {st.get('status')!r}")
                        if st.get("device_id") in deleted:
                            problems.append(f"status of {st.get('device_id')}, which the platform deleted")
                elif kind in ("add_sub_device_request", "delete_sub_device_request", "update_sub_device_request"):
                    devices = paras.get("devices") or []
                    if not 1 <= len(devices) <= MAX_MANAGED_DEVICES:
                        problems.append(f"{len(devices)} devices in {kind} (1-{MAX_MANAGED_DEVICES})")
        elif suffix == "messages/up":
            if "content" not in body:
                problems.append("content missing")
            for field in ("object_device_id", "name", "id"):
                if field in body and not isinstance(body[field], str):
                    problems.append(f"{field} is not a string")
        elif suffix.startswith("commands/response/request_id=") or suffix.startswith("properties/set/response/request_id="):
            if "result_code" not in body:
                problems.append("result_code missing")
        return problems

    # --- $sub_device_manager ---

    def answer(self, gateway, service):
        kind = service.get("event_type")
        paras = service.get("paras") or {}
        event_id = service.get("event_id") or str(uuid.uuid4())
        down = f"$oc/devices/{gateway}/sys/events/down"
        if kind == "add_sub_device_request":
            ok = []
            for d in paras.get("devices") or []:
                info = {"parent_device_id": gateway, "node_id": d.get("node_id"),
                        "device_id": d.get("device_id") or f"{d.get('product_id')}_{d.get('node_id')}",
                        "name": d.get("name"), "product_id": d.get("product_id"), "status": "INACTIVE"}
                ok.append(info)
                self.remember(gateway, "add", info)
            self.publish(down, self.event(gateway, "add_sub_device_response", event_id,
                                          {"successful_devices": ok, "failed_devices": []}))
        elif kind == "delete_sub_device_request":
            ok = []
            for device_id in paras.get("devices") or []:
                info = self.children.get(gateway, {}).get(device_id, {"parent_device_id": gateway, "device_id": device_id})
                ok.append(device_id)
                self.remember(gateway, "delete", info)
            self.publish(down, self.event(gateway, "delete_sub_device_response", event_id,
                                          {"successful_devices": ok, "failed_devices": []}))
        elif kind == "sub_device_sync_request":
            since = paras.get("version") or 0
            added = [info for v, k, g, info in self.changes if g == gateway and k == "add" and v > since]
            deleted = [info for v, k, g, info in self.changes if g == gateway and k == "delete" and v > since]
            if added:
                self.publish(down, self.event(gateway, "add_sub_device_notify", None,
                                              {"devices": added, "version": self.version}))
            if deleted:
                self.publish(down, self.event(gateway, "delete_sub_device_notify", None,
                                              {"devices": deleted, "version": self.version}))

    def remember(self, gateway, kind, info):
        with self.lock:
            self.version += 1
            if kind == "add":
                self.children.setdefault(gateway, {})[info["device_id"]] = info
                self.deleted.get(gateway, set()).discard(info["device_id"])
            else:
                self.children.get(gateway, {}).pop(info.get("device_id"), None)
                self.deleted.setdefault(gateway, set()).add(info.get("device_id"))
            self.changes.append((self.version, kind, gateway, info))

    def event(self, gateway, kind, event_id, paras):
        service = {"service_id": "$sub_device_manager", "event_type": kind, "event_time": now_event_time(),
                   "paras": paras}
        if event_id:
            service["event_id"] = event_id
        return {"object_device_id": gateway, "services": [service]}

    # --- stdin control ---

    def control(self, line):
        order = json.loads(line)
        if "publish" in order:
            self.publish(order["publish"]["topic"], order["publish"]["payload"])
        elif "command" in order:
            c = order["command"]
            body = {k: c[k] for k in ("object_device_id", "service_id", "command_name", "paras") if k in c}
            request_id = c.get("request_id") or str(uuid.uuid4())
            self.publish(f"$oc/devices/{c['device_id']}/sys/commands/request_id={request_id}", body)
        elif "add_notify" in order:
            n = order["add_notify"]
            infos = []
            for d in n["devices"]:
                info = {"parent_device_id": n["device_id"], "node_id": d["node_id"],
                        "device_id": d.get("device_id") or f"{d['product_id']}_{d['node_id']}",
                        "product_id": d["product_id"], "status": "INACTIVE"}
                self.remember(n["device_id"], "add", info)
                infos.append(info)
            self.publish(f"$oc/devices/{n['device_id']}/sys/events/down",
                         self.event(n["device_id"], "add_sub_device_notify", None, {"devices": infos, "version": self.version}))
        elif "delete_notify" in order:
            n = order["delete_notify"]
            infos = [{"parent_device_id": n["device_id"], "device_id": i} for i in n["device_ids"]]
            for info in infos:
                self.remember(n["device_id"], "delete", info)
            self.publish(f"$oc/devices/{n['device_id']}/sys/events/down",
                         self.event(n["device_id"], "delete_sub_device_notify", None, {"devices": infos, "version": self.version}))
        elif "ota" in order:
            o = order["ota"]
            service = {"service_id": "$ota", "event_type": o["event_type"], "event_time": now_event_time(),
                       "paras": o.get("paras") or {}}
            self.publish(f"$oc/devices/{o['device_id']}/sys/events/down",
                         {"object_device_id": o.get("object_device_id") or o["device_id"], "services": [service]})
        print("platform: sent", flush=True)

    def run(self):
        self.client.connect(self.args.host, self.args.port, keepalive=60)
        self.client.loop_start()
        try:
            for line in sys.stdin:
                line = line.strip()
                if not line:
                    continue
                try:
                    self.control(line)
                except (ValueError, KeyError, TypeError) as error:
                    print(f"platform: bad control line {line!r}: {error}", file=sys.stderr, flush=True)
            if self.args.stay:
                while True:
                    time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.client.loop_stop()


def ota_line(child, service):
    """One readable line for an `$ota` event a gateway sends about a child."""
    kind = service.get("event_type")
    paras = service.get("paras") if isinstance(service.get("paras"), dict) else {}
    if kind == "upgrade_progress_report":
        progress = paras.get("progress")
        text = f"{kind} {child} {'-' if progress is None else progress} %, result {paras.get('result_code')}"
        text += f", version {paras.get('version') or '?'}"
        if paras.get("description"):
            text += f": {paras['description']}"
        return text
    if kind == "version_report":
        return f"{kind} {child} sw {paras.get('sw_version')} fw {paras.get('fw_version')}"
    return f"{kind} {child} {json.dumps(paras, separators=(',', ':'))[:160]}"


def summarize_upgrades(ota):
    """The closing lines about upgrades: per child its progress reports and its final result
    (the report that carries a description, or a result other than 0)."""
    if not ota:
        return
    upgraded = []
    lines = []
    for child, reports in sorted(ota.items()):
        final = next((p for p in reversed(reports) if p.get("description") or p.get("result_code") not in (0, None)), None)
        steps = [p.get("progress") for p in reports if p is not final and p.get("progress") is not None]
        shown = ", ".join(f"{s} %" for s in steps) if len(steps) <= 4 else f"{steps[0]} %, {steps[1]} %, … {steps[-1]} %"
        line = f"{child}: {len(reports)} progress report(s) ({shown or 'none'})"
        if final is None:
            line += ", no final result"
        else:
            line += f", final result {final.get('result_code')} version {final.get('version')}"
            if final.get("result_code") == 0:
                upgraded.append(child)
        lines.append(line)
    print(f"  upgrades: {len(upgraded)} of {len(ota)} child(ren) upgraded" + "".join(f"\n    {line}" for line in lines))


def summarize_packages(path):
    """GETs a package server (Tests/PackageCacheTests/https_server.py) logged: the site's downloads."""
    requests = []
    with open(path) as log:
        for line in log:
            if line.startswith("req "):
                requests.append(dict(field.split("=", 1) for field in line.split()[1:] if "=" in field))
    sent = sum(int(r.get("sent", "0")) for r in requests if r.get("sent", "0").isdigit())
    statuses = ", ".join(sorted({r.get("status", "?") for r in requests})) or "none"
    print(f"  package server: {len(requests)} GET(s) (status {statuses}), {sent} byte(s) sent")


def summarize(path, package_log=None):
    """What a --record file holds, counted: the closing lines of `make demo`."""
    entries = []
    with open(path) as record:
        for line in record:
            if line.strip():
                entries.append(json.loads(line))
    flagged = [e for e in entries if e.get("problems")]
    print(f"demo: the scripted cloud received {len(entries)} message(s); its checks flagged {len(flagged)}")
    for e in flagged[:5]:
        print(f"  flagged: {e['topic']}: {'; '.join(e['problems'])}")
    reports, per_child, statuses, managed, responses, messages = 0, {}, [], {}, [], []
    ota = {}
    for e in entries:
        suffix = "/".join(e["topic"].split("/")[4:])
        try:
            body = json.loads(e["payload"])
        except ValueError:
            continue
        if not isinstance(body, dict):
            continue
        if suffix == "gateway/sub_devices/properties/report":
            reports += 1
            for device in body.get("devices") or []:
                per_child[device.get("device_id")] = per_child.get(device.get("device_id"), 0) + 1
        elif suffix == "events/up":
            for service in body.get("services") or []:
                kind = service.get("event_type")
                if service.get("service_id") == "$ota":
                    if kind == "upgrade_progress_report" and isinstance(service.get("paras"), dict):
                        ota.setdefault(body.get("object_device_id"), []).append(service["paras"])
                elif kind == "sub_device_update_status":
                    status_entries = (service.get("paras") or {}).get("device_statuses") or []
                    statuses.append(", ".join(f"{st.get('device_id')} {st.get('status')}" for st in status_entries))
                else:
                    managed[kind] = managed.get(kind, 0) + 1
        elif suffix.startswith("commands/response/"):
            responses.append(f"result_code {body.get('result_code')} ({body.get('result_desc')})")
        elif suffix == "messages/up":
            content = body.get("content") if isinstance(body.get("content"), dict) else {}
            messages.append(f"{body.get('name')} of {body.get('object_device_id')}: {content.get('command_name')} "
                            f"{content.get('status')}, result_code {content.get('result_code')}")
    children = ", ".join(f"{child} {count}" for child, count in sorted(per_child.items()))
    print(f"  property reports: {reports} message(s), {sum(per_child.values())} child report(s): {children}")
    print(f"  child statuses: {len(statuses)} message(s)" + "".join(f"\n    {line}" for line in statuses))
    print("  child management: " + (", ".join(f"{kind} {n}" for kind, n in sorted(managed.items())) or "none"))
    print(f"  command responses: {len(responses)}" + "".join(f"\n    {line}" for line in responses))
    print(f"  device messages: {len(messages)}" + "".join(f"\n    {line}" for line in messages))
    summarize_upgrades(ota)
    if package_log:
        summarize_packages(package_log)


def main():
    # A parent that runs threads (a Swift test runner) may hand us a blocked SIGTERM: unblock it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--username", default="platform")
    parser.add_argument("--password")
    parser.add_argument("--ca-file", help="CA of a TLS broker")
    parser.add_argument("--record", help="append every received message as a JSON line here")
    parser.add_argument("--session", help="client id of a persistent session (clean session off): nothing the broker "
                        "acknowledged is missed while the platform or a persistent broker restarts")
    parser.add_argument("--stay", action="store_true", help="keep running after stdin closes")
    parser.add_argument("--show", action="store_true", help="print one line per message a gateway sends")
    parser.add_argument("--summary", metavar="RECORD", help="print what a --record file holds, counted, and exit")
    parser.add_argument("--package-log", metavar="LOG", help="with --summary: also count the GETs a package server logged")
    args = parser.parse_args()
    if args.summary:
        summarize(args.summary, args.package_log)
    elif not args.password:
        parser.error("--password is required")
    else:
        Platform(args).run()


if __name__ == "__main__":
    main()
