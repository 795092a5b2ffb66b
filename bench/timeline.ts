/**
 * Where a dev deploy's time goes: runs a few dev deploys on a test platform and prints each history
 * event's offset from the run's start, with the activity or timer it belongs to, and the time
 * between events summed by kind (`npx tsx bench/timeline.ts [runs]`). A profiling aid for issue 12.
 */
import { temporal } from '@temporalio/proto';
import { deploymentBody, startTestPlatform, uniqueDigest } from '../test/helpers/platform';

const EventType = temporal.api.enums.v1.EventType;

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const platform = await startTestPlatform();
  try {
    const gaps = new Map<string, number[]>();
    for (let i = 0; i <= runs; i++) {
      const service = `timeline-${i}`;
      const posted = Date.now();
      const started = await platform.http('POST', '/v1/deployments', deploymentBody({ service, image: `registry.example.com/payments/${service}@${uniqueDigest()}` }));
      if (started.status !== 202) throw new Error(`POST answered ${started.status}: ${JSON.stringify(started.body)}`);
      const handle = platform.client.workflow.getHandle(started.body.deploymentId, started.body.runId);
      await handle.result();
      const total = Date.now() - posted;
      const history = await handle.fetchHistory();
      const events = history.events ?? [];
      const t0 = Number(events[0]?.eventTime?.seconds ?? 0) * 1000 + Math.round((events[0]?.eventTime?.nanos ?? 0) / 1e6);
      const names = new Map<number, string>();
      let previous = t0;
      const lines: string[] = [];
      for (const event of events) {
        const at = Number(event.eventTime?.seconds ?? 0) * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);
        const type = EventType[event.eventType ?? 0]?.replace('EVENT_TYPE_', '') ?? String(event.eventType);
        const scheduled = event.activityTaskScheduledEventAttributes;
        if (scheduled) names.set(Number(event.eventId), scheduled.activityType?.name ?? '?');
        const ref = event.activityTaskStartedEventAttributes?.scheduledEventId ?? event.activityTaskCompletedEventAttributes?.scheduledEventId;
        const name = scheduled?.activityType?.name ?? (ref ? names.get(Number(ref)) : undefined) ?? '';
        const key = `${type}${name ? ` ${name}` : ''}`;
        if (i > 0) gaps.set(key, [...(gaps.get(key) ?? []), at - previous]);
        lines.push(`${String(at - t0).padStart(5)} ms  +${String(at - previous).padStart(4)}  ${key}`);
        previous = at;
      }
      if (i === runs) console.log(`last run: POST → result ${total} ms, ${events.length} events\n${lines.join('\n')}`);
      else console.log(`run ${i}: POST → result ${total} ms, ${events.length} events`);
    }
    console.log('\nmean time before each event kind (ms, excluding the warm-up run):');
    const rows = [...gaps].map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length, v.length] as const).sort((a, b) => b[1] * b[2] - a[1] * a[2]);
    for (const [k, mean, n] of rows) console.log(`${mean.toFixed(1).padStart(7)} × ${String(n).padStart(3)}  ${k}`);
  } finally {
    await platform.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
