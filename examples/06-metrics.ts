// Example 6 of the interface document: a processor that depends on the Metrics port, here
// PrometheusMetrics (OpenTelemetry metrics rendered in Prometheus's text format, as the API's
// /metrics serves them). Run: npx tsx examples/06-metrics.ts
import { PrometheusMetrics, type Metrics } from 'voxq';

class RequestProcessor {
  constructor(private readonly metrics: Metrics) {}

  processRequest(requestData: Record<string, unknown>): Record<string, unknown> {
    const started = performance.now();
    try {
      this.metrics.increment('requests', 1, { endpoint: '/process', method: 'POST' });
      this.metrics.gauge('active_requests', 1);
      if (requestData.fail === true) throw new TypeError('bad request data');
      const result = { status: 'success' };
      this.metrics.timing('request_duration', performance.now() - started, { endpoint: '/process' });
      this.metrics.histogram('response_size', JSON.stringify(result).length);
      return result;
    } catch (error) {
      this.metrics.increment('errors', 1, { endpoint: '/process', error_type: error instanceof Error ? error.name : 'unknown' });
      throw error;
    } finally {
      this.metrics.gauge('active_requests', 0);
    }
  }
}

const metrics = new PrometheusMetrics('voxq-example');
const processor = new RequestProcessor(metrics);
processor.processRequest({ text: 'oi' });
processor.processRequest({ text: 'olá' });
try {
  processor.processRequest({ fail: true });
} catch {
  // counted in errors_total
}
const scrape = await metrics.scrape();
for (const line of scrape.split('\n')) if (/^(requests_total|errors_total|active_requests|request_duration_milliseconds_count|response_size_count)[{ ]/.test(line)) console.log(line);
await metrics.shutdown();

// prints: requests_total\{endpoint="/process",method="POST"\} 3
// prints: errors_total\{endpoint="/process",error_type="TypeError"\} 1
// prints: ^active_requests 0$
// prints: request_duration_milliseconds_count\{endpoint="/process"\} 2
// prints: ^response_size_count 2$
