"""The production deployment's parts on loopback, for benchmarks/load.py: what docker-compose.yml runs,
as plain processes (this machine runs no containers).

- Redis (Celery broker and the shared cache) with an append-only file, as the compose service;
- an S3 server (moto in server mode; MinIO is not in the registries this machine reaches) with the
  media bucket;
- N gunicorn replicas of the production settings behind nginx (round robin; a replica that refuses
  or drops a connection is skipped, as ``deploy/nginx.conf`` does);
- M Celery workers (each its own node name and process group).

Every part binds 127.0.0.1 only and runs in its own process group, so a kill ends exactly that part.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"  # never any other address
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
S3_KEY, S3_SECRET, S3_BUCKET = "load-portal", "load-portal-secret", "load-media"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for(ready, what, seconds=60, process=None, log=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} 退出（{process.returncode}）" + (f"，见 {log}" if log else ""))
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001, S110 — not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} {seconds} 秒内未就绪" + (f"，见 {log}" if log else ""))


class Part:
    """One server process in its own session; ``kill()`` is SIGKILL to its whole group (a crash)."""

    name = "?"

    def __init__(self, directory, out):
        self.directory, self.out = Path(directory), out
        self.process = None
        self.log_path = self.directory / f"{self.name}.log"

    def command(self):
        raise NotImplementedError

    def env(self):
        return None

    def ready(self):
        return True

    def popen(self):
        self.log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for(self.ready, self.name, process=self.process, log=self.log_path)

    def start(self):
        self.popen()
        self.out(f"{self.name} 已启动（pid {self.process.pid}）")
        return self

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def _signal(self, sig, wait):
        try:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=wait)
        except ProcessLookupError:
            pass

    def kill(self):
        if self.alive():
            self._signal(signal.SIGKILL, 10)
            self.log.close()

    def stop(self):
        if not self.alive():
            return
        try:
            self._signal(signal.SIGTERM, 20)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL, 10)
        self.log.close()


class Redis(Part):
    """Append-only file with fsync on every write, as the compose service: what was queued survives."""

    name = "redis"

    def __init__(self, directory, out):
        super().__init__(directory, out)
        self.port = free_port()
        (self.directory / "redis").mkdir(parents=True, exist_ok=True)

    def command(self):
        return [
            shutil.which("redis-server") or "redis-server",
            "--bind",
            HOST,
            "--port",
            str(self.port),
            "--dir",
            str(self.directory / "redis"),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ]

    def ready(self):
        return subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG"

    def url(self, db):
        return f"redis://{HOST}:{self.port}/{db}"

    def restart(self):
        """SHUTDOWN (what `docker compose restart redis` sends), then the same server again."""
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown"], capture_output=True, timeout=30)
        self.process.wait(timeout=30)
        self.log.close()
        self.popen()


class S3(Part):
    name = "s3"

    def __init__(self, directory, out):
        super().__init__(directory, out)
        self.port = free_port()
        self.endpoint = f"http://{HOST}:{self.port}"

    def command(self):
        return [shutil.which("moto_server") or str(BIN / "moto_server"), "-H", HOST, "-p", str(self.port)]

    def ready(self):
        socket.create_connection((HOST, self.port), timeout=0.5).close()
        return True

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET, region_name="us-east-1"
        )

    def start(self):
        super().start()
        self.client().create_bucket(Bucket=S3_BUCKET)
        return self

    def keys(self):
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}


class Gunicorn(Part):
    def __init__(self, directory, out, env, index, workers, threads):
        self.name = f"web-{index}"
        super().__init__(directory, out)
        self._env, self.workers, self.threads = env, workers, threads
        self.port = free_port()

    def env(self):
        return self._env

    def command(self):
        return [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            f"--bind={HOST}:{self.port}",
            f"--workers={self.workers}",
            f"--threads={self.threads}",
            "--timeout=120",
            "--backlog=2048",
            "--no-control-socket",
        ]

    def ready(self):
        import httpx

        return httpx.get(f"http://{HOST}:{self.port}/health/live/", timeout=5).status_code == 200


class Worker(Part):
    def __init__(self, directory, out, env, index):
        self.name = f"worker-{index}"
        super().__init__(directory, out)
        self._env = env

    def env(self):
        return self._env

    def command(self):
        return [str(BIN / "celery"), "-A", "config", "worker", "-n", f"{self.name}@load", "--concurrency=1", "--loglevel=INFO"]

    def ready(self):
        return "ready" in self.log_path.read_text(errors="replace").split(f"{self.name} 已启动")[-1]

    def start(self):
        self.log_path.open("a").write(f"\n{self.name} 已启动\n")  # marks where this start's output begins
        return super().start()


NGINX_CONF = """{user}worker_processes 1;
error_log {dir}/nginx-error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    client_body_temp_path {dir}/nginx-tmp/body;
    proxy_temp_path {dir}/nginx-tmp/proxy;
    fastcgi_temp_path {dir}/nginx-tmp/fastcgi;
    uwsgi_temp_path {dir}/nginx-tmp/uwsgi;
    scgi_temp_path {dir}/nginx-tmp/scgi;
    upstream portal_web {{
{servers}
        keepalive 32;
    }}
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://portal_web;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # As deploy/nginx.conf: a replica that is down is skipped for the next one; a request
            # already sent (a POST) is never sent twice, its client gets the 502 and may retry.
            proxy_next_upstream error timeout http_502 http_503;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


class Nginx(Part):
    name = "nginx"

    def __init__(self, directory, out, upstream_ports):
        super().__init__(directory, out)
        self.port = free_port()
        (self.directory / "nginx-tmp").mkdir(parents=True, exist_ok=True)
        servers = "\n".join(f"        server {HOST}:{p} max_fails=1 fail_timeout=5s;" for p in upstream_ports)
        self.conf = self.directory / "nginx.conf"
        self.conf.write_text(
            NGINX_CONF.format(
                user="user root;\n" if os.geteuid() == 0 else "",
                dir=self.directory,
                servers=servers,
                host=HOST,
                port=self.port,
            )
        )

    def command(self):
        return [shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(self.conf), "-p", str(self.directory), "-g", "daemon off;"]

    def ready(self):
        socket.create_connection((HOST, self.port), timeout=0.5).close()
        return True

    @property
    def base(self):
        return f"http://{HOST}:{self.port}"
