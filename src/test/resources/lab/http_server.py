"""HTTP/1.1 server for PayloadIT (keeps connections open, unlike http.server's default 1.0).

http_server.py PORT: listens on [::]:PORT (IPv4 too), prints "ready".
  /slow  -> 200 after 50 ms
  /      -> 200
  other  -> 404
"""
import http.server
import socket
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/slow":
            time.sleep(0.05)
        code = 200 if self.path in ("/", "/slow") else 404
        body = b"netwatcher lab\n" * 20
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


if __name__ == "__main__":
    srv = Server(("::", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    srv.serve_forever()
