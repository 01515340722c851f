// The official Octopus npm client (@octopusdeploy/api-client, the version tests/compat pins) doing
// the jobs octorelease is benchmarked on, written as a user of that client would write them:
//
//   node official.mjs deploy  URL KEY '{"project": "Web", "release": "1.1.0", "to": ["Test"], "wait": true}'
//   node official.mjs promote URL KEY '{"project": "Web", "from": "Development", "to": ["Test"], "wait": true}'
//   node official.mjs create  URL KEY '{"project": "Web", "version": "9.0.0", "packages": ["Deploy web:1.3.0"]}'
//
// Waiting is the client's own ServerTaskWaiter polling every "poll" ms (500 by default). One JSON
// line is printed the moment each task is seen completed ({"done": taskId, "state": ...}), and one
// at the end ({"ok": true, ...}); the benchmark timestamps the lines as they arrive.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

// The client is installed once, for the compatibility test: load it from there.
const require = createRequire(fileURLToPath(new URL("../../tests/compat/package.json", import.meta.url)));
const {
  Client, DeploymentRepository, EnvironmentRepository, ProjectRepository, ReleaseRepository, ServerTaskWaiter,
  SpaceServerTaskRepository,
} = require("@octopusdeploy/api-client");

const [job, url, apiKey, argsJson] = process.argv.slice(2);
const args = JSON.parse(argsJson || "{}");
const space = args.space || "Default";
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const client = await Client.create({ instanceURL: url, apiKey, userAgentApp: "octorelease-bench", logging: quiet });
const say = (doc) => process.stdout.write(JSON.stringify(doc) + "\n");

async function deploy(version, environments) {
  const queued = await new DeploymentRepository(client, space).create({
    spaceName: space, ProjectName: args.project, ReleaseVersion: version, EnvironmentNames: environments,
  });
  const taskIds = queued.DeploymentServerTasks.map((t) => t.ServerTaskId);
  if (args.wait) {
    const seen = new Set();
    const waiter = new ServerTaskWaiter(client, space);
    const tasks = new SpaceServerTaskRepository(client, space);
    const logs = [];
    await waiter.waitForServerTasksToComplete(taskIds, args.poll || 500, (args.timeout || 600) * 1000, (task) => {
      if (seen.has(task.Id)) return;
      // "log": the task's log as it grows, as a user of this client would read it: the task's
      // details on every poll while it runs, and once more when it has completed.
      if (args.log) logs.push(tasks.getDetails(task.Id));
      if (task.IsCompleted) {
        seen.add(task.Id);
        say({ done: task.Id, state: task.State });
      }
    });
    await Promise.all(logs);
  }
  return taskIds;
}

async function promote() {
  // The release the source environment runs: its latest successful deployment, by ids.
  const [project] = (await new ProjectRepository(client, space).list({ partialName: args.project })).Items
    .filter((p) => p.Name === args.project);
  const [source] = (await new EnvironmentRepository(client, space).list({ partialName: args.from })).Items
    .filter((e) => e.Name === args.from);
  const deployments = new DeploymentRepository(client, space);
  const [latest] = (await deployments.list({
    projects: [project.Id], environments: [source.Id], taskState: "Success", take: 1,
  })).Items;
  const release = await new ReleaseRepository(client, space).get(latest.ReleaseId);
  return { release: release.Version, tasks: await deploy(release.Version, args.to) };
}

let result;
if (job === "deploy") {
  result = { tasks: await deploy(args.release, args.to) };
} else if (job === "promote") {
  result = await promote();
} else if (job === "create") {
  const created = await new ReleaseRepository(client, space).create({
    spaceName: space, ProjectName: args.project, ReleaseVersion: args.version, Packages: args.packages || [],
  });
  result = { release: created.ReleaseVersion, tasks: args.to ? await deploy(created.ReleaseVersion, args.to) : [] };
} else {
  console.error(`unknown job ${job}: deploy, promote or create`);
  process.exit(2);
}
say({ ok: true, ...result });
