#!/usr/bin/python3
"""An HTTP/2 client that decides how much of a body it lets the server send (Debian's
python3-h2, run with /usr/bin/python3): one GET, then either the whole body with the usual
windows, or a stream window of exactly --grant bytes (SETTINGS_INITIAL_WINDOW_SIZE; 0: none)
and a RST_STREAM once they have arrived (or, with 0, once the response head has). Prints one JSON line: the status, the
body bytes received and whether the stream was reset.

Usage: h2_client.py --port N [--tls] --path /audio/x.wav --ua AGENT [--grant BYTES]
"""
import argparse
import json
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings


def connect(port, tls):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if not tls:
        return sock
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    if sock.selected_alpn_protocol() != "h2":
        raise SystemExit("the server did not agree to h2")
    return sock


def run(args):
    sock = connect(args.port, args.tls)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    limited = args.grant is not None
    conn.initiate_connection()
    if limited:
        # The stream's window is the grant from the start; the connection's (65,535, which
        # SETTINGS cannot lower) is raised as far as the grant.
        conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: args.grant})
        if args.grant > 65535:
            conn.increment_flow_control_window(args.grant - 65535)
    stream = conn.get_next_available_stream_id()
    conn.send_headers(stream, [(":method", "GET"), (":scheme", "https" if args.tls else "http"),
                               (":authority", f"127.0.0.1:{args.port}"), (":path", args.path),
                               ("user-agent", args.ua)], end_stream=True)
    sock.sendall(conn.data_to_send())
    status, received, reset, ended = None, 0, False, False
    deadline = time.monotonic() + 60
    if limited and args.grant == 0:
        sock.settimeout(3)  # mod_http2 may hold the head of a stream it cannot send DATA on
    while not ended and not reset and time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
            if not data:
                break
        except (socket.timeout, TimeoutError):
            if not (limited and args.grant == 0):
                raise
            data = b""
            status = status or 0  # no head came: reset all the same
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived):
                status = int(dict(event.headers)[b":status"])
            elif isinstance(event, h2.events.DataReceived):
                received += len(event.data)
                if not limited:
                    conn.acknowledge_received_data(event.flow_controlled_length, stream)
            elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                ended = True
        if limited and status is not None and received >= args.grant and not ended and not reset:
            conn.reset_stream(stream, h2.errors.ErrorCodes.CANCEL)
            reset = True
        sock.sendall(conn.data_to_send())
    if limited and args.grant == 0:
        time.sleep(0.5)  # a server that wrongly sent DATA past a zero window would have by now
    conn.close_connection()
    sock.sendall(conn.data_to_send())
    sock.close()
    print(json.dumps({"status": status, "received": received, "reset": reset, "ended": ended}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls", action="store_true")
    p.add_argument("--path", required=True)
    p.add_argument("--ua", required=True)
    p.add_argument("--grant", type=int)
    run(p.parse_args())


if __name__ == "__main__":
    sys.exit(main())
