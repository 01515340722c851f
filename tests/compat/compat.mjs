// Drives the official Octopus npm client (@octopusdeploy/api-client, pinned in package.json)
// against a running sandbox, to prove the sandbox speaks Octopus to a client we did not write.
//
//   node compat.mjs SANDBOX_URL API_KEY
//
// Resolves space "Default", creates a release of Web, deploys it untenanted to Development,
// waits for the task with the client's own waiter, and expects a deploy of the same release to
// Production to be refused. Prints one JSON line with what it saw; exits 1 with a reason otherwise.
import {
  Client,
  DeploymentRepository,
  ReleaseRepository,
  ServerTaskWaiter,
  resolveSpaceId,
} from "@octopusdeploy/api-client";

const [url, apiKey] = process.argv.slice(2);
if (!url || !apiKey) {
  console.error("usage: node compat.mjs SANDBOX_URL API_KEY");
  process.exit(2);
}

function fail(message) {
  console.error(`compat: ${message}`);
  process.exit(1);
}

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const client = await Client.create({ instanceURL: url, apiKey, userAgentApp: "octorelease-compat", logging: quiet });
const space = "Default";

const spaceId = await resolveSpaceId(client, space);
if (spaceId !== "Spaces-1") fail(`space "Default" resolved to ${spaceId}, expected Spaces-1`);

const releases = new ReleaseRepository(client, space);
const release = await releases.create({
  spaceName: space, ProjectName: "Web", ReleaseVersion: "9.0.0", ReleaseNotes: "Created by the npm client",
});
if (release.ReleaseVersion !== "9.0.0" || !release.ReleaseId) fail(`unexpected release: ${JSON.stringify(release)}`);

const deployments = new DeploymentRepository(client, space);
const queued = await deployments.create({
  spaceName: space, ProjectName: "Web", ReleaseVersion: "9.0.0", EnvironmentNames: ["Development"],
});
if (queued.DeploymentServerTasks.length !== 1) fail(`expected one deployment, got ${JSON.stringify(queued)}`);
const { DeploymentId: deploymentId, ServerTaskId: taskId } = queued.DeploymentServerTasks[0];

const listed = await deployments.list({ ids: [deploymentId] });
if (listed.Items.length !== 1 || listed.Items[0].EnvironmentId !== "Environments-1") {
  fail(`listing the deployment by id gave ${JSON.stringify(listed.Items)}`);
}

const waiter = new ServerTaskWaiter(client, space);
const task = await waiter.waitForServerTaskToComplete(taskId, 50, 30000);
if (!task || task.State !== "Success") fail(`task ${taskId} ended ${task && task.State}: ${task && task.ErrorMessage}`);

let refusal = null;
try {
  await deployments.create({
    spaceName: space, ProjectName: "Web", ReleaseVersion: "9.0.0", EnvironmentNames: ["Production"],
  });
} catch (error) {
  refusal = String(error && error.message);
}
if (refusal === null) fail("deploying 9.0.0 to Production before Test and Staging was accepted");
if (!refusal.includes("cannot be deployed to environment 'Production'")) fail(`unexpected refusal: ${refusal}`);

console.log(JSON.stringify({ spaceId, releaseId: release.ReleaseId, deploymentId, taskId, state: task.State, refusal }));
