/**
 * @module One webhook HTTP attempt: POST the signed body, never follow a redirect (a redirect is a
 * failure: the signed request must reach the endpoint that was configured), give up after the
 * timeout, and classify the answer: 2xx delivered, 410 Gone stops retrying, anything else retries.
 */
export type AttemptOutcome = 'delivered' | 'gone' | 'retry';

export interface AttemptResult {
  outcome: AttemptOutcome;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export function classifyStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'gone';
  return 'retry';
}

export async function attemptDelivery(endpoint: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<AttemptResult> {
  const started = Date.now();
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'edge-upload-pipeline-webhooks/1', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body is not needed; reading (at most a little of) it frees the connection.
    await response.body?.cancel().catch(() => undefined);
    const outcome = classifyStatus(response.status);
    const redirect = response.status >= 300 && response.status < 400;
    const error =
      outcome !== 'retry' ? null : redirect ? `redirect to ${(response.headers.get('location') ?? '(none)').slice(0, 200)} not followed` : `HTTP ${response.status}`;
    return { outcome, status: response.status, error, durationMs: Date.now() - started };
  } catch (error) {
    const name = (error as Error)?.name;
    const message = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs / 1000} s` : String(error).slice(0, 300);
    return { outcome: 'retry', status: null, error: message, durationMs: Date.now() - started };
  }
}
