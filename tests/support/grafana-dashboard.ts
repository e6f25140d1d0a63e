// The provisioned Grafana dashboard (deploy/grafana/dashboards/voxq.json) as tests read it: its
// panels (rows' nested panels included) and the voxq metric names its PromQL expressions query.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_PATH = fileURLToPath(new URL('../../deploy/grafana/dashboards/voxq.json', import.meta.url));

export interface DashboardDatasource {
  type?: string;
  uid?: string;
}

export interface DashboardTarget {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  datasource?: DashboardDatasource;
}

export interface DashboardPanel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: DashboardDatasource;
  targets?: DashboardTarget[];
  fieldConfig?: { defaults?: { unit?: string } };
  /** A collapsed row's panels. */
  panels?: DashboardPanel[];
}

export interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: DashboardPanel[];
}

/** Series suffixes of a histogram (and a summary): the metric's own name is what precedes them. */
const SERIES_SUFFIX = /_(bucket|count|sum)$/;
const METRIC_NAME = /\bvoxq_[a-z0-9_]+/g;

export function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

/** Every panel, a row's nested panels included; rows themselves (no queries) left out. */
export function dashboardPanels(dashboard: Dashboard = loadDashboard()): DashboardPanel[] {
  const out: DashboardPanel[] = [];
  const walk = (panels: DashboardPanel[] | undefined) => {
    for (const panel of panels ?? []) {
      if (panel.type !== 'row') out.push(panel);
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** Every PromQL expression of every panel's targets. */
export function dashboardExprs(dashboard: Dashboard = loadDashboard()): string[] {
  return dashboardPanels(dashboard).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ''));
}

/** The voxq metric names the expressions use, without `_bucket`/`_count`/`_sum`, sorted, once each. */
export function dashboardMetricNames(dashboard: Dashboard = loadDashboard()): string[] {
  const names = new Set<string>();
  for (const expr of dashboardExprs(dashboard)) for (const [name] of expr.matchAll(METRIC_NAME)) names.add(name.replace(SERIES_SUFFIX, ''));
  return [...names].sort();
}

/** The metric names the expressions read as histograms (through their `_bucket` series). */
export function dashboardHistogramNames(dashboard: Dashboard = loadDashboard()): string[] {
  const names = new Set<string>();
  for (const expr of dashboardExprs(dashboard)) {
    for (const [name] of expr.matchAll(METRIC_NAME)) if (name.endsWith('_bucket')) names.add(name.replace(SERIES_SUFFIX, ''));
  }
  return [...names].sort();
}
