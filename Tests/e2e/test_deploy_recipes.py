#!/usr/bin/env python3
"""The deployment recipes in docs/deploy/ stay true to the hub: every metric the Grafana dashboard
and the Prometheus alert rules read is one that a running hubd serves at /metrics, the rules
parse as Prometheus rule groups, and the systemd unit and nginx recipe keep the settings the README
promises (hardening, file limit, trusted proxy, WebSocket upgrade, a read timeout past the
heartbeat)."""
import json
import os
import re
import sys
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(__file__))
from hubd import DATABASE_URL, Checks, Hubd  # noqa: E402

checks = Checks()
DEPLOY = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "deploy")


def read(name):
    with open(os.path.join(DEPLOY, name), encoding="utf-8") as f:
        return f.read()


def metric_names(expression):
    return set(re.findall(r"\b(hub_[a-z_]+)", expression))


def main():
    dashboard = json.loads(read("grafana-dashboard.json"))
    rules = yaml.safe_load(read("prometheus-alerts.yml"))

    def every_metric_read_is_served():
        wanted = set()
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                wanted |= metric_names(target["expr"])
        for group in rules["groups"]:
            for rule in group["rules"]:
                wanted |= metric_names(rule["expr"])
        assert len(wanted) >= 8, wanted
        with Hubd(HUB_DATABASE_URL=DATABASE_URL) as hubd:
            text = urllib.request.urlopen(f"http://127.0.0.1:{hubd.port}/metrics", timeout=10).read().decode()
        served = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
        served |= {name + suffix for name in served for suffix in ("_sum", "_count")}
        missing = wanted - served
        assert not missing, f"read by the recipes but not served: {sorted(missing)}"

    def rules_are_prometheus_rule_groups():
        assert [group["name"] for group in rules["groups"]] == ["hub"]
        for rule in rules["groups"][0]["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert rule["alert"] and rule["expr"] and rule["annotations"]["summary"], rule
            assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s")), rule

    def unit_and_proxy_keep_their_promises():
        unit = read("hubd.service")
        for setting in ["NoNewPrivileges=yes", "ProtectSystem=strict", "DynamicUser=yes", "LimitNOFILE=1048576",
                        "HUB_TRUSTED_PROXIES=127.0.0.1", "KillSignal=SIGTERM", "CapabilityBoundingSet="]:
            assert setting in unit, setting
        nginx = read("nginx.conf")
        assert "proxy_set_header Upgrade $http_upgrade;" in nginx
        assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in nginx
        timeout = int(re.search(r"location /ws/ \{[^}]*proxy_read_timeout (\d+)s;", nginx).group(1))
        assert timeout > 75, "nginx must wait longer than hubd's heartbeat timeout (75 s)"
        assert "session" in read("pgbouncer.md") and "LISTEN" in read("pgbouncer.md")

    checks.run("every metric the dashboard and the alerts read is served by hubd", every_metric_read_is_served)
    checks.run("the alert rules are Prometheus rule groups", rules_are_prometheus_rule_groups)
    checks.run("the systemd unit and nginx keep the README's settings", unit_and_proxy_keep_their_promises)
    checks.exit()


if __name__ == "__main__":
    main()
