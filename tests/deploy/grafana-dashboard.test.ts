// The provisioned Grafana setup for docker compose (profile `metrics`): the dashboard JSON's panels
// (ids, titles, units, the provisioned datasource, PromQL targets), the datasource and dashboard
// provider files, and the compose `grafana` service that mounts them. That the metric names the
// queries use are ones voxq exposes is checked against a real scrape in tests/http/metrics.test.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_PATH, dashboardExprs, dashboardHistogramNames, dashboardMetricNames, dashboardPanels, loadDashboard } from '../support/grafana-dashboard.js';
import { yamlBlock, yamlFlowList, yamlLines, yamlListItems, yamlValue, yamlValues } from '../support/yaml-lines.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const DATASOURCE_FILE = 'deploy/grafana/provisioning/datasources/prometheus.yml';
const PROVIDER_FILE = 'deploy/grafana/provisioning/dashboards/voxq.yml';

const dashboard = loadDashboard();
const panels = dashboardPanels(dashboard);

/** The provisioned datasource: its uid, type and url. */
function provisionedDatasource(): { uid: string; type: string; url: string } {
  const lines = yamlLines(read(DATASOURCE_FILE));
  const entry = yamlBlock(lines, /^\s*- name:/);
  return { uid: yamlValue(entry, 'uid'), type: yamlValue(entry, 'type'), url: yamlValue(entry, 'url') };
}

/** The compose `grafana` service's lines. */
function grafanaService(): string[] {
  return yamlBlock(yamlBlock(yamlLines(read('docker-compose.yml')), /^services:$/), /^ {2}grafana:$/);
}

/** The compose service's bind mounts of repository folders: host folder (from the root) → container path and mode. */
function bindMounts(service: readonly string[]): { host: string; container: string; mode: string }[] {
  return yamlListItems(yamlBlock(service, /^\s+volumes:$/)).map((item) => {
    const [host = '', container = '', mode = 'rw'] = item.split(':');
    return { host: normalize(host), container, mode };
  });
}

describe('Grafana dashboard deploy/grafana/dashboards/voxq.json', () => {
  it('is the voxq dashboard on a current schema', () => {
    expect(dashboard.uid).toBe('voxq');
    expect(dashboard.title).toBe('voxq');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(panels.length).toBeGreaterThan(0);
  });

  it('gives every panel a unique id, a title and a unit', () => {
    const ids = panels.map((p) => p.id);
    for (const id of ids) expect(Number.isInteger(id), `panel id ${String(id)}`).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect(panel.title?.trim(), `panel ${String(panel.id)}`).toBeTruthy();
      expect(panel.fieldConfig?.defaults?.unit, panel.title).toBeTruthy();
    }
  });

  it('queries the provisioned Prometheus datasource from every panel and target', () => {
    const { uid, type } = provisionedDatasource();
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual({ type, uid });
      for (const target of panel.targets ?? []) if (target.datasource) expect(target.datasource, panel.title).toEqual({ type, uid });
    }
  });

  it('has at least one target with a PromQL expression on every panel, refIds unique per panel', () => {
    for (const panel of panels) {
      const targets = panel.targets ?? [];
      expect(targets.length, panel.title).toBeGreaterThan(0);
      for (const target of targets) expect(target.expr?.trim(), `${panel.title} ${target.refId}`).toBeTruthy();
      const refIds = targets.map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
    }
  });

  it('takes rates over $__rate_interval and quantiles over _bucket series summed by le', () => {
    for (const expr of dashboardExprs(dashboard)) {
      for (const [, range] of expr.matchAll(/\[([^\]]*)\]/g)) expect(range, expr).toBe('$__rate_interval');
      if (!expr.includes('histogram_quantile(')) continue;
      expect(expr, expr).toMatch(/_bucket\[/);
      expect(expr, expr).toMatch(/\bby \((?:[^)]*,\s*)?le\s*[,)]/);
    }
  });

  it('uses voxq metrics, histograms through their _bucket series', () => {
    const names = dashboardMetricNames(dashboard);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name).toMatch(/^voxq_[a-z0-9_]+$/);
    expect(dashboardHistogramNames(dashboard).length).toBeGreaterThan(0);
    for (const name of dashboardHistogramNames(dashboard)) expect(names).toContain(name);
  });
});

describe('Grafana provisioning', () => {
  it('provisions a Prometheus datasource on the compose Prometheus', () => {
    const ds = provisionedDatasource();
    expect(ds.type).toBe('prometheus');
    expect(ds.uid).not.toBe('');
    expect(ds.url).toBe('http://prometheus:9090');
    expect(yamlValue(yamlLines(read(DATASOURCE_FILE)), 'apiVersion')).toBe('1');
  });

  it('loads dashboards from the folder compose mounts the dashboard JSON at', () => {
    const lines = yamlLines(read(PROVIDER_FILE));
    expect(yamlValue(lines, 'apiVersion')).toBe('1');
    const provider = yamlBlock(lines, /^\s*- name:/);
    expect(yamlValue(provider, 'type')).toBe('file');
    const path = yamlValue(provider, 'path');

    const mount = bindMounts(grafanaService()).find((m) => m.container === path);
    expect(mount, `a compose mount at ${path}`).toBeDefined();
    expect(mount?.mode).toBe('ro');
    expect(join(ROOT, mount?.host ?? '')).toBe(join(ROOT, normalize('deploy/grafana/dashboards')));
    expect(readdirSync(join(ROOT, mount?.host ?? ''))).toContain(basename(DASHBOARD_PATH));
  });
});

describe('compose grafana service', () => {
  const service = grafanaService();

  it('runs a pinned Grafana image on port 3000 in the metrics profile, after Prometheus', () => {
    expect(service.length).toBeGreaterThan(1);
    expect(yamlValue(service, 'image')).toMatch(/^grafana\/grafana-oss:\d+\.\d+\.\d+$/);
    expect(yamlFlowList(yamlValue(service, 'ports'))).toContain('3000:3000');
    const prometheus = yamlBlock(yamlBlock(yamlLines(read('docker-compose.yml')), /^services:$/), /^ {2}prometheus:$/);
    expect(yamlFlowList(yamlValue(service, 'profiles'))).toEqual(yamlFlowList(yamlValue(prometheus, 'profiles')));
    expect(yamlFlowList(yamlValue(service, 'depends_on'))).toContain('prometheus');
  });

  it('mounts both provisioning folders and the dashboards read-only from the repository', () => {
    const mounts = bindMounts(service);
    expect(mounts.length).toBe(3);
    for (const mount of mounts) {
      expect(mount.mode, mount.container).toBe('ro');
      expect(existsSync(join(ROOT, mount.host)), mount.host).toBe(true);
    }
    const at = (container: string) => mounts.find((m) => m.container === container)?.host;
    expect(at('/etc/grafana/provisioning/datasources')).toBe(normalize('deploy/grafana/provisioning/datasources'));
    expect(at('/etc/grafana/provisioning/dashboards')).toBe(normalize('deploy/grafana/provisioning/dashboards'));
    expect(readdirSync(join(ROOT, at('/etc/grafana/provisioning/datasources') ?? ''))).toContain(basename(DATASOURCE_FILE));
    expect(readdirSync(join(ROOT, at('/etc/grafana/provisioning/dashboards') ?? ''))).toContain(basename(PROVIDER_FILE));
  });

  it('takes the admin password from GRAFANA_ADMIN_PASSWORD and turns anonymous access off', () => {
    expect(yamlValue(service, 'GF_SECURITY_ADMIN_PASSWORD')).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD(:-[^}]+)?\}$/);
    expect(yamlValues(service, 'GF_AUTH_ANONYMOUS_ENABLED')).toEqual(['false']);
  });
});
