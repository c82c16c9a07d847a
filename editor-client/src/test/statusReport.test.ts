import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { formatStatusReport } from '../statusReport';

describe('formatStatusReport', () => {
  it('flattens, names and rounds the fields', () => {
    const lines = formatStatusReport({
      model: '/models/tiny',
      device: 'cpu',
      requests: 12,
      latencyMs: { p50: 8.123, p95: 20.5 },
      cache_hit_rate: 0.25,
      lastError: null,
    });
    assert.deepEqual(lines, [
      'model: /models/tiny',
      'device: cpu',
      'requests: 12',
      'latency ms p50: 8.1',
      'latency ms p95: 20.5',
      'cache hit rate: 25.0%',
      'last error: -',
    ]);
  });

  it('leaves nested objects out of the summary', () => {
    const report = { state: 'ready', settings: { temperature: 0 }, requests: 3 };
    assert.deepEqual(formatStatusReport(report, false), ['state: ready', 'requests: 3']);
  });

  it('shows an answer that is not an object as it is', () => {
    assert.deepEqual(formatStatusReport('ok'), ['status: ok']);
    assert.deepEqual(formatStatusReport(null), ['status: -']);
  });
});
