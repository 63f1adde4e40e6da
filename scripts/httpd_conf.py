#!/usr/bin/env python3
"""The configuration of a private httpd: the one writer that the integration tests (and
scripts/soak through them), bench/run, bench/h2 and scripts/run-demo take theirs from.

A private httpd keeps its pid and runtime files under a directory of its own, listens on
loopback only, runs the event MPM with its workers as nobody:nogroup (when started as root),
loads mod_audio_stream from a path with conf/audio_stream.conf's defaults, grants its docroot
and nothing else, and ends with the caller's own blocks (Directory, Location, VirtualHost).

Python: conf_text(root, port, docroot, module, **options) returns the text; write() also
writes it to a file. The command line takes the same options (run-demo uses it):

  scripts/httpd_conf.py --root DIR --port 8080 --docroot DIR --module /abs/mod_audio_stream.so
                        [--load mime --load dir] [--extra-file FILE|-] [--out FILE] ...

Standard library only.
"""
import argparse
import os
import shutil
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APACHE_MODULES = "/usr/lib/apache2/modules"
HTTPD = shutil.which("apache2") or "/usr/sbin/apache2"
# httpd's compiled-in ThreadLimit: ThreadsPerChild above it is refused unless it is raised.
DEFAULT_THREAD_LIMIT = 64
ALWAYS_LOADED = ("mpm_event", "authz_core")
TLS_MODULES = ("socache_shmcb", "ssl")


def quoted(text):
    """A directive argument in double quotes: httpd unescapes only \\" inside them."""
    return '"' + text.replace('"', '\\"') + '"'


def directory(path, *directives):
    """A <Directory> block holding one directive a line."""
    body = "".join(f"    {d}\n" for d in directives)
    return f"<Directory {path}>\n{body}</Directory>\n"


def load_modules(modules):
    """LoadModule lines: the MPM and authz_core, then `modules` by short name, each once
    (a second LoadModule of one module is a warning in the error log)."""
    names = []
    for name in ALWAYS_LOADED + tuple(modules):
        if name not in names:
            names.append(name)
    return [f"LoadModule {n}_module {APACHE_MODULES}/mod_{n}.so" for n in names]


def event_mpm(children, threads, start_servers=None, min_spare_threads=25,
              max_connections_per_child=None):
    """Sizing of the event MPM: `children` processes of `threads` workers each."""
    workers = children * threads
    lines = [f"StartServers {start_servers or children}", f"ServerLimit {children}"]
    if threads > DEFAULT_THREAD_LIMIT:
        lines.append(f"ThreadLimit {threads}")
    lines += [f"ThreadsPerChild {threads}", f"MaxRequestWorkers {workers}",
              # The defaults (75/250) may exceed the workers: httpd would log AH10159 (error
              # level) a moment after start and again when a burst looks for spare threads.
              f"MinSpareThreads {min(min_spare_threads, workers)}",
              f"MaxSpareThreads {workers}"]
    if max_connections_per_child is not None:
        lines.append(f"MaxConnectionsPerChild {max_connections_per_child}")
    return lines


def conf_text(root, port, docroot, module, *, run_dir=None, host="127.0.0.1", modules=(),
              module_defaults=True, user="nobody", group="nogroup",
              children=None, threads=25, start_servers=None, min_spare_threads=25,
              max_connections_per_child=None, keepalive_requests=None, keepalive_timeout=None,
              sendfile=None, error_log=None, log_level="warn", access_log=None,
              log_format=None, access_log_condition=None, protocols=None, tls=None,
              allow_override="None", options=None, extra="", header=None):
    """The httpd.conf text of a private httpd.

    root: ServerRoot; run_dir (default root): PidFile and DefaultRuntimeDir.
    port: a port or a list of them, each a Listen on host.
    docroot: DocumentRoot, the one directory granted; allow_override and options (None: not
      set) are its AllowOverride and Options.
    module: absolute path of mod_audio_stream.so (None: not loaded, for a proxy or cache in
      front of one that has it); module_defaults: Include conf/audio_stream.conf.
    modules: further Apache modules by short name ("mime", "dir", "http2", "remoteip", ...);
      with "mime", TypesConfig /etc/mime.types.
    user, group: who the workers run as when httpd starts as root (None: not set).
    children: None leaves the MPM at httpd's defaults; else event_mpm() with threads,
      start_servers (default children), min_spare_threads, max_connections_per_child.
    keepalive_requests, keepalive_timeout: KeepAlive On with these (None: httpd's defaults).
    sendfile: True or False sets EnableSendfile (None: httpd's default, Off).
    error_log (default root/error.log), log_level: ErrorLog and LogLevel.
    access_log: a CustomLog path written with log_format (a LogFormat string, unquoted), only
      the requests that access_log_condition ("env=..." or "expr=...") selects when given.
    protocols: the Protocols line ("h2c http/1.1"); tls: (certificate, key) files: mod_ssl
      (and socache_shmcb) loaded and SSLEngine on for every port.
    extra: text appended last (Directory, Location, VirtualHost blocks, more directives).
    header: a comment for the first lines (what wrote the file).
    """
    run_dir = run_dir or root
    ports = [port] if isinstance(port, (int, str)) else list(port)
    if tls:
        modules = tuple(modules) + TLS_MODULES
    out = [f"# {line}" for line in header.splitlines()] if header else []
    out += [f"ServerRoot {root}"]
    out += [f"Listen {host}:{p}" for p in ports]
    out += [f"ServerName {host}", f"PidFile {run_dir}/httpd.pid", f"DefaultRuntimeDir {run_dir}",
            f"ErrorLog {error_log or os.path.join(root, 'error.log')}", f"LogLevel {log_level}"]
    if user:
        out.append(f"User {user}")
    if group:
        out.append(f"Group {group}")
    out += load_modules(modules)
    if "mime" in modules:
        out.append("TypesConfig /etc/mime.types")
    if module:
        with open(os.path.join(REPO, "conf", "audio_stream.load")) as f:
            out += f.read().replace("@MODULE_PATH@", module).splitlines()
    if module and module_defaults:
        out.append(f"Include {REPO}/conf/audio_stream.conf")
    if protocols:
        out.append(f"Protocols {protocols}")
    if tls:
        cert, key = tls
        out += ["SSLEngine on", f"SSLCertificateFile {cert}", f"SSLCertificateKeyFile {key}"]
    if keepalive_requests is not None or keepalive_timeout is not None:
        out.append("KeepAlive On")
        if keepalive_requests is not None:
            out.append(f"MaxKeepAliveRequests {keepalive_requests}")
        if keepalive_timeout is not None:
            out.append(f"KeepAliveTimeout {keepalive_timeout}")
    if sendfile is not None:
        out.append(f"EnableSendfile {'On' if sendfile else 'Off'}")
    if children is not None:
        out += event_mpm(children, threads, start_servers, min_spare_threads,
                         max_connections_per_child)
    if access_log:
        out += [f"LogFormat {quoted(log_format)} private",
                f"CustomLog {access_log} private"
                + (f" {quoted(access_log_condition)}" if access_log_condition else "")]
    out.append(f"DocumentRoot {docroot}")
    text = "\n".join(out) + "\n"
    text += directory("/", "AllowOverride None", "Require all denied")
    text += directory(docroot, f"AllowOverride {allow_override}",
                      *([f"Options {options}"] if options else []), "Require all granted")
    if extra:
        text += extra if extra.endswith("\n") else extra + "\n"
    return text


def write(path, root, port, docroot, module, **options):
    """Writes conf_text(...) to path and returns it."""
    text = conf_text(root, port, docroot, module, **options)
    with open(path, "w") as f:
        f.write(text)
    return text


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", required=True, help="ServerRoot")
    p.add_argument("--run-dir", help="PidFile and DefaultRuntimeDir (default: --root)")
    p.add_argument("--port", type=int, action="append", required=True, help="repeatable")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--docroot", required=True)
    p.add_argument("--module", required=True, help="absolute path of mod_audio_stream.so")
    p.add_argument("--load", dest="modules", action="append", default=[], metavar="NAME",
                   help="an Apache module by short name (mime, dir, http2, ...); repeatable")
    p.add_argument("--no-module-defaults", dest="module_defaults", action="store_false",
                   help="do not Include conf/audio_stream.conf")
    p.add_argument("--user", default="nobody")
    p.add_argument("--group", default="nogroup")
    p.add_argument("--children", type=int, help="event MPM processes (default: httpd's)")
    p.add_argument("--threads", type=int, default=25, help="threads per child")
    p.add_argument("--start-servers", type=int)
    p.add_argument("--min-spare-threads", type=int, default=25)
    p.add_argument("--max-connections-per-child", type=int)
    p.add_argument("--keepalive-requests", type=int)
    p.add_argument("--keepalive-timeout", type=int)
    p.add_argument("--sendfile", choices=("on", "off"))
    p.add_argument("--error-log")
    p.add_argument("--log-level", default="warn")
    p.add_argument("--access-log")
    p.add_argument("--log-format", help="with --access-log, unquoted")
    p.add_argument("--access-log-condition", metavar="env=...|expr=...")
    p.add_argument("--protocols")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--allow-override", default="None")
    p.add_argument("--options")
    p.add_argument("--extra", action="append", default=[], metavar="TEXT",
                   help="text appended last; repeatable")
    p.add_argument("--extra-file", action="append", default=[], metavar="FILE",
                   help="a file's text appended after every --extra ('-': standard input); "
                        "repeatable")
    p.add_argument("--header", help="a comment for the first line")
    p.add_argument("--out", help="write here (default: standard output)")
    args = vars(p.parse_args(argv))

    if args["access_log"] and not args["log_format"]:
        p.error("--access-log needs --log-format")
    if bool(args["tls_cert"]) != bool(args["tls_key"]):
        p.error("--tls-cert and --tls-key go together")
    extra = list(args.pop("extra"))
    for name in args.pop("extra_file"):
        if name == "-":
            extra.append(sys.stdin.read())
        else:
            with open(name) as f:
                extra.append(f.read())
    cert, key = args.pop("tls_cert"), args.pop("tls_key")
    sendfile = args.pop("sendfile")
    out = args.pop("out")
    text = conf_text(args.pop("root"), args.pop("port"), args.pop("docroot"), args.pop("module"),
                     extra="".join(e if e.endswith("\n") else e + "\n" for e in extra),
                     tls=(cert, key) if cert else None,
                     sendfile=None if sendfile is None else sendfile == "on", **args)
    if out:
        with open(out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
