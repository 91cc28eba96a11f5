// Load test of the Silhouette API (k6, https://grafana.com/docs/k6/latest/).
//
// Ramps to the stack's API throughput target and holds it while workflows are enqueued at its peak rate;
// the run fails when the SLOs are missed (p95 latency, error rate). Every figure comes from
// loadtest/slo.json, which `make docs` generates from each stack file (silhouette:observability.slo for
// the thresholds, silhouette:apps.throughput for the rates): edit the settings, never this file's numbers.
//
//   k6 run -e BASE_URL=https://<stack's domain> -e STACK=staging loadtest/api.js
//
// Environment (k6 -e NAME=value):
//   BASE_URL       required: scheme and host of the API, e.g. https://silhouette.example.com
//   STACK          whose objectives and targets to use (default staging; production is the design's 1,000/s)
//   API_PATH       path requested at the ramped rate (default /api/healthz)
//   WORKFLOW_PATH  path a workflow execution is POSTed to; {id} is replaced by WORKFLOW_ID
//                  (default /api/workflows/{id}/executions)
//   WORKFLOW_ID    workflow to execute (default load-test)
//   TOKEN          bearer token sent with every request (default none)
//   API_RATE       requests/s to ramp to (default: the stack's apps.throughput.api_requests_per_second)
//   RAMP, HOLD     ramp-up and steady durations (default 5m and 10m); workflows are enqueued during HOLD
//   MAX_VUS        most virtual users k6 may start for the API scenario (default API_RATE)
// The paths are the application's: the defaults are the backend's health route behind the ALB's /api rule
// and a REST route for executing a workflow; set them to the routes the backend serves.
import http from 'k6/http';
import { check } from 'k6';

const STACK = __ENV.STACK || 'staging';
const objectives = JSON.parse(open('./slo.json'));
const figures = objectives.stacks[STACK];
if (!figures) {
  throw new Error(`STACK=${STACK}: loadtest/slo.json has no such stack (known: ${Object.keys(objectives.stacks).join(', ')})`);
}
const BASE_URL = (__ENV.BASE_URL || '').replace(/\/+$/, '');
if (!/^https?:\/\/[^/]+/.test(BASE_URL)) {
  throw new Error(`BASE_URL=${BASE_URL || '(unset)'}: set the API's scheme and host, e.g. -e BASE_URL=https://silhouette.example.com`);
}

const API_PATH = __ENV.API_PATH || '/api/healthz';
const WORKFLOW_PATH = __ENV.WORKFLOW_PATH || '/api/workflows/{id}/executions';
const WORKFLOW_ID = __ENV.WORKFLOW_ID || 'load-test';
const TOKEN = __ENV.TOKEN || '';
const API_RATE = Number(__ENV.API_RATE || figures.api_requests_per_second);
const RAMP = __ENV.RAMP || '5m';
const HOLD = __ENV.HOLD || '10m';
const MAX_VUS = Number(__ENV.MAX_VUS || API_RATE);
// Workflows per hour at the peak: the stack's hourly target times its peak factor (apps.throughput).
const WORKFLOWS_PER_HOUR = Math.round(figures.workflows_per_hour * figures.workflow_peak_factor);

export const options = {
  scenarios: {
    api: {
      executor: 'ramping-arrival-rate',
      exec: 'api',
      startRate: 0,
      timeUnit: '1s',
      // At the latency objective one VU makes about 1000 / latency_p95_ms requests per second.
      preAllocatedVUs: Math.max(1, Math.ceil((API_RATE * figures.latency_p95_ms) / 1000)),
      maxVUs: MAX_VUS,
      stages: [
        { target: API_RATE, duration: RAMP },
        { target: API_RATE, duration: HOLD },
        { target: 0, duration: '1m' },
      ],
    },
    workflows: {
      executor: 'constant-arrival-rate',
      exec: 'enqueueWorkflow',
      rate: WORKFLOWS_PER_HOUR,
      timeUnit: '1h',
      startTime: RAMP,
      duration: HOLD,
      preAllocatedVUs: 5,
      maxVUs: 50,
    },
  },
  // The SLOs. k6 counts every answer outside 200-399 in http_req_failed, 4xx included: stricter than the
  // alerts' 5xx on purpose, since a 4xx here means a misconfigured test (path, token), which must not pass.
  thresholds: {
    http_req_duration: [`p(95)<${figures.latency_p95_ms}`],
    http_req_failed: [`rate<${figures.error_rate}`],
  },
};

const auth = TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {};

export function api() {
  const response = http.get(`${BASE_URL}${API_PATH}`, { headers: auth, tags: { name: 'api' } });
  check(response, { 'API answers 2xx': (r) => r.status >= 200 && r.status < 300 });
}

export function enqueueWorkflow() {
  const url = `${BASE_URL}${WORKFLOW_PATH.replace('{id}', encodeURIComponent(WORKFLOW_ID))}`;
  const body = JSON.stringify({ input: { source: 'k6-load-test' } });
  const response = http.post(url, body, {
    headers: Object.assign({ 'Content-Type': 'application/json' }, auth),
    tags: { name: 'enqueue workflow' },
  });
  check(response, { 'workflow enqueued (2xx)': (r) => r.status >= 200 && r.status < 300 });
}
