"""A TLS server for the SNI test: appends the server name each client sent in its
ClientHello ('-' for none) to a file, and answers every HTTP request with 200 and an
empty body. Stops by itself after 120 s. argv: PORT CERT_CHAIN KEY NAMES_FILE"""
import socket
import ssl
import sys
import threading
import time

port, chain, key, names = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(chain, key)


def record(_socket, name, _context):
    with open(names, "a") as f:
        f.write((name or "-") + "\n")


context.sni_callback = record


def serve(connection):
    try:
        with context.wrap_socket(connection, server_side=True) as tls:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = tls.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += tls.recv(65536)
                buffer = buffer[length:]
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    except (ssl.SSLError, OSError):
        pass


listener = socket.create_server(("127.0.0.1", port))
listener.settimeout(1)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        connection, _ = listener.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
