/**
 * Prometheus metrics (prom-client, on a registry of their own — never the global one). Names follow vLLM's
 * where one exists, with the `talaria:` prefix instead of `vllm:`; docs/server.md lists the mapping.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ReplicaCounters } from "../engine/types.js";

export interface MetricsSources {
  /** Requests holding / waiting for sequences (the admission queue). */
  readonly running: () => number;
  readonly waiting: () => number;
  /** Engine sequences in use / total; undefined while the model loads. */
  readonly sequences: () => { readonly busy: number; readonly total: number } | undefined;
  /** Per-backend counters of routed models (`talaria serve --backend`); default none. */
  readonly backends?: () => readonly BackendMetricsSample[];
}

/** One backend replica's counters, labelled with the model it serves. */
export interface BackendMetricsSample extends ReplicaCounters {
  /** The served model id. */
  readonly model: string;
}

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640];
const TPOT_BUCKETS = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10];
const LATENCY_BUCKETS = [0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly promptTokens: Counter;
  readonly cachedPromptTokens: Counter;
  readonly generationTokens: Counter;
  readonly requestSuccess: Counter<"finished_reason">;
  readonly httpRequests: Counter<"route" | "status">;
  readonly timeToFirstToken: Histogram;
  readonly timePerOutputToken: Histogram;
  readonly e2eLatency: Histogram;
  readonly queueTime: Histogram;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    new Gauge({
      name: "talaria:num_requests_running",
      help: "Requests generating (holding engine sequences).",
      registers,
      collect() {
        this.set(sources.running());
      },
    });
    new Gauge({
      name: "talaria:num_requests_waiting",
      help: "Requests waiting for a free sequence.",
      registers,
      collect() {
        this.set(sources.waiting());
      },
    });
    new Gauge({
      name: "talaria:num_sequences_busy",
      help: "Engine sequences in use.",
      registers,
      collect() {
        this.set(sources.sequences()?.busy ?? 0);
      },
    });
    new Gauge({
      name: "talaria:num_sequences_total",
      help: "Engine sequences (--parallel).",
      registers,
      collect() {
        this.set(sources.sequences()?.total ?? 0);
      },
    });
    const backendGauge = (name: string, help: string, value: (b: BackendMetricsSample) => number | undefined): void => {
      new Gauge({
        name,
        help,
        labelNames: ["model", "backend"],
        registers,
        collect() {
          this.reset();
          for (const b of sources.backends?.() ?? []) {
            const v = value(b);
            if (v !== undefined) this.set({ model: b.model, backend: b.name }, v);
          }
        },
      });
    };
    backendGauge("talaria:backend_healthy", "1 when the backend passes its health checks (0: ejected).", (b) => (b.healthy ? 1 : 0));
    backendGauge("talaria:backend_requests_outstanding", "Requests the router has in flight at the backend.", (b) => b.outstanding);
    backendGauge("talaria:backend_num_requests_running", "Requests the backend says it runs (its own metrics).", (b) => b.backendRunning);
    backendGauge("talaria:backend_num_requests_waiting", "Requests the backend says are waiting (its own metrics).", (b) => b.backendWaiting);
    // Monotonic counts kept by the router, exported as gauges of totals (prom-client counters cannot be set).
    backendGauge("talaria:backend_requests_total", "Requests routed to the backend.", (b) => b.requests);
    backendGauge("talaria:backend_errors_total", "Requests that failed at the backend.", (b) => b.errors);
    backendGauge("talaria:backend_ejections_total", "Times the backend was ejected (failed health checks or a failed request).", (b) => b.ejections);
    backendGauge("talaria:backend_failovers_total", "Requests sent to the backend after another one failed before the first token.", (b) => b.failovers);
    backendGauge("talaria:backend_prefix_affinity_hits_total", "Requests routed to the backend because it had seen their prefix.", (b) => b.affinityHits);
    backendGauge("talaria:backend_request_duration_seconds_sum", "Total seconds of requests at the backend.", (b) => b.durationSecondsSum);
    backendGauge("talaria:backend_request_duration_seconds_count", "Requests timed at the backend.", (b) => b.durationCount);
    this.promptTokens = new Counter({ name: "talaria:prompt_tokens_total", help: "Prompt tokens processed.", registers });
    this.cachedPromptTokens = new Counter({
      name: "talaria:prompt_tokens_cached_total",
      help: "Prompt tokens reused from the KV cache (prefix reuse).",
      registers,
    });
    this.generationTokens = new Counter({ name: "talaria:generation_tokens_total", help: "Tokens generated.", registers });
    this.requestSuccess = new Counter({
      name: "talaria:request_success_total",
      help: "Generation requests finished, by finish reason (stop, length, tool_calls, abort).",
      labelNames: ["finished_reason"],
      registers,
    });
    this.httpRequests = new Counter({
      name: "talaria:http_requests_total",
      help: "HTTP requests by route and status code.",
      labelNames: ["route", "status"],
      registers,
    });
    this.timeToFirstToken = new Histogram({
      name: "talaria:time_to_first_token_seconds",
      help: "Time from request arrival to the first generated token.",
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.timePerOutputToken = new Histogram({
      name: "talaria:time_per_output_token_seconds",
      help: "Per request: (last token time - first token time) / (output tokens - 1).",
      buckets: TPOT_BUCKETS,
      registers,
    });
    this.e2eLatency = new Histogram({
      name: "talaria:e2e_request_latency_seconds",
      help: "Time from request arrival to the end of its generation.",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.queueTime = new Histogram({
      name: "talaria:request_queue_time_seconds",
      help: "Time a request waited for a free sequence.",
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /** Record one finished generation (one choice). Times in milliseconds from `performance.now()`. */
  recordGeneration(record: {
    readonly arrivedAt: number;
    readonly firstTokenAt: number | undefined;
    readonly finishedAt: number;
    readonly promptTokens: number;
    readonly cachedPromptTokens: number;
    readonly completionTokens: number;
    readonly finishReason: string;
  }): void {
    this.promptTokens.inc(record.promptTokens);
    this.cachedPromptTokens.inc(record.cachedPromptTokens);
    this.generationTokens.inc(record.completionTokens);
    this.requestSuccess.inc({ finished_reason: record.finishReason });
    this.e2eLatency.observe((record.finishedAt - record.arrivedAt) / 1000);
    if (record.firstTokenAt !== undefined) {
      this.timeToFirstToken.observe((record.firstTokenAt - record.arrivedAt) / 1000);
      if (record.completionTokens > 1) {
        this.timePerOutputToken.observe((record.finishedAt - record.firstTokenAt) / 1000 / (record.completionTokens - 1));
      }
    }
  }
}
