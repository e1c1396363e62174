import { describe, expect, it } from 'vitest';
import { parseRecording, recordingToHar, requestSpanMs, type RecordedExchange } from '../harness/record/recording.ts';
import { importHar } from '../harness/scenario/har.ts';

function exchange(overrides: Partial<RecordedExchange>): RecordedExchange {
  return {
    url: 'http://api.example/a',
    method: 'GET',
    startedMs: 1000,
    status: 200,
    mimeType: 'application/json',
    waitMs: 40,
    receiveMs: 2,
    bodyBytes: 500,
    ...overrides,
  };
}

describe('a recording', () => {
  it('reads the lines in the order the requests started, leaving out a line cut short', () => {
    const lines = [JSON.stringify(exchange({ startedMs: 2000 })), JSON.stringify(exchange({ startedMs: 1000 })), '{"url": "http://api.exa'].join('\n');
    expect(parseRecording(lines).map((e) => e.startedMs)).toEqual([1000, 2000]);
  });

  it('spans from the first request sent to the last byte received', () => {
    expect(requestSpanMs([exchange({ startedMs: 1000, waitMs: 40, receiveMs: 2 }), exchange({ startedMs: 1050, waitMs: 100, receiveMs: 5 })])).toBe(155);
    expect(requestSpanMs([])).toBe(0);
  });

  it('becomes a scenario through the HAR importer: latency is wait plus receive, sizes and status codes per host', () => {
    const har = recordingToHar(
      [
        exchange({ startedMs: 1000, waitMs: 40, receiveMs: 2, bodyBytes: 500 }),
        exchange({ startedMs: 1100, waitMs: 60, receiveMs: 4, bodyBytes: 700 }),
        exchange({ startedMs: 1200, status: 503, waitMs: 10, receiveMs: 0, bodyBytes: 20 }),
        exchange({ url: 'http://db.example/q', startedMs: 1300, status: 0, mimeType: '', waitMs: 3000, receiveMs: 0, bodyBytes: 0 }),
      ],
      { name: 'fanout-tuner record', version: '0.1.0' },
    );
    const { scenario } = importHar(har, { file: 'node job.js', name: 'job' });
    expect(scenario.requests.map((r) => ('url' in r ? r.url : r.host))).toEqual([
      'http://api.example/a',
      'http://api.example/a',
      'http://api.example/a',
      'http://db.example/q',
    ]);
    expect(scenario.hosts['api.example']).toMatchObject({
      latencyMs: { dist: 'empirical', samples: [42, 64, 10] },
      bodyBytes: { dist: 'empirical', samples: [500, 700] },
      errorRate: 1 / 3,
      resetRate: 0,
    });
    expect(scenario.hosts['db.example']).toMatchObject({ resetRate: 1 });
    expect(scenario.work?.parse).toBe('json');
  });
});
