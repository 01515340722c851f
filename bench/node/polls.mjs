// How many task polls per second the sandbox answers: node polls.mjs URL TARGET TASKS SECONDS
// TARGET is a client's poll request with {task} for the task id (ServerTasks-1 .. ServerTasks-TASKS,
// in turn); 4 keep-alive connections poll back to back for SECONDS. Prints the rate.
import http from "node:http";

const [url, target, tasks, seconds] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const headers = { "X-Octopus-ApiKey": "API-SANDBOX0000000000000000000000" };
const until = Date.now() + Number(seconds) * 1000;
let done = 0;
let next = 0;

function get(path) {
  return new Promise((resolve, reject) => {
    http.get(new URL(path, url), { agent, headers }, (response) => {
      response.resume();
      response.on("end", () => (response.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${response.statusCode}`))));
    }).on("error", reject);
  });
}

async function worker() {
  while (Date.now() < until) {
    next = (next % Number(tasks)) + 1;
    await get(target.replace("{task}", `ServerTasks-${next}`));
    done += 1;
  }
}

const started = Date.now();
await Promise.all([worker(), worker(), worker(), worker()]);
agent.destroy();
console.log((done / ((Date.now() - started) / 1000)).toFixed(1));
