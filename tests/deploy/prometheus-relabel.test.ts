// deploy/prometheus.yml's renames on the voxq-workers job: the OTel collector names a metric with
// a short unit in its name as it is (voxq.gpu.reserved_mb → voxq_gpu_reserved_mb) where the API
// spells the unit out (voxq_gpu_reserved_megabytes); after the job's metric_relabel_configs the
// workers' GPU gauges have the API's names, the ones the Grafana dashboard queries, and no other
// dashboard metric is renamed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GPU_FREE_GAUGE, GPU_RESERVED_GAUGE } from '../../src/shared/gpu/redis-gpu-manager.js';
import { prometheusBaseName } from '../../src/shared/telemetry/prometheus-metrics.js';
import { dashboardMetricNames } from '../support/grafana-dashboard.js';
import { yamlBlock, yamlFlowList, yamlLines, yamlValue } from '../support/yaml-lines.js';

interface NameRelabel {
  regex: RegExp;
  replacement: string;
}

/** The job's metric_relabel_configs that rewrite `__name__` from `__name__`. */
function nameRelabels(job: string): NameRelabel[] {
  const text = readFileSync(fileURLToPath(new URL('../../deploy/prometheus.yml', import.meta.url)), 'utf8');
  const jobLines = yamlBlock(yamlLines(text), new RegExp(`^\\s*- job_name: ${job}$`));
  expect(jobLines.length, `job ${job}`).toBeGreaterThan(0);
  const configs = yamlBlock(jobLines, /^\s+metric_relabel_configs:$/);
  const out: NameRelabel[] = [];
  for (let i = 1; i < configs.length; i++) {
    if (!/^\s*- /.test(configs[i] ?? '')) continue;
    const rule = yamlBlock(configs.slice(i), /^\s*- /);
    expect(yamlFlowList(yamlValue(rule, 'source_labels'))).toEqual(['__name__']);
    expect(yamlValue(rule, 'target_label')).toBe('__name__');
    // Prometheus anchors the regex and writes groups as ${1}.
    out.push({ regex: new RegExp(`^(?:${yamlValue(rule, 'regex')})$`), replacement: yamlValue(rule, 'replacement').replace(/\$\{(\d+)\}/g, '$$$1') });
  }
  return out;
}

function relabel(name: string, rules: readonly NameRelabel[]): string {
  return rules.reduce((current, rule) => (rule.regex.test(current) ? current.replace(rule.regex, rule.replacement) : current), name);
}

/** The collector's Prometheus name for a gauge with no unit: the name's alphanumeric runs joined by `_`. */
function collectorGaugeName(otelName: string): string {
  return otelName.split(/[^a-zA-Z0-9]+/).filter(Boolean).join('_');
}

describe('deploy/prometheus.yml voxq-workers renames', () => {
  const rules = nameRelabels('voxq-workers');

  it('give the GPU gauges from the collector the names the API exposes and the dashboard queries', () => {
    expect(rules.length).toBeGreaterThan(0);
    for (const gauge of [GPU_RESERVED_GAUGE, GPU_FREE_GAUGE]) {
      const apiName = prometheusBaseName(gauge, '');
      expect(collectorGaugeName(gauge), gauge).not.toBe(apiName);
      expect(relabel(collectorGaugeName(gauge), rules), gauge).toBe(apiName);
      expect(dashboardMetricNames()).toContain(apiName);
    }
  });

  it('leave every other dashboard metric and its series as they are', () => {
    for (const name of dashboardMetricNames()) {
      for (const series of [name, `${name}_bucket`, `${name}_count`, `${name}_sum`]) expect(relabel(series, rules)).toBe(series);
    }
  });
});
