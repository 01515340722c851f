// Drives the official Octopus npm client (@octopusdeploy/api-client, pinned in package.json)
// against a running sandbox, to prove the sandbox speaks Octopus to a client we did not write.
//
//   node compat.mjs SANDBOX_URL API_KEY
//
// Resolves space "Default", creates a release of Web, deploys it untenanted to Development,
// waits for the task with the client's own waiter, and expects a deploy of the same release to
// Production to be refused. Then builds its own estate through the client's repositories: a
// project group, an environment, a project and a machine (3.11.0 has no machine repository, so
// its generic space-scoped one, on the machines route), and pushes a package file.
// Prints one JSON line with what it saw; exits 1 with a reason otherwise.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Client,
  DeploymentRepository,
  EnvironmentRepository,
  LifecycleRepository,
  OverwriteMode,
  PackageRepository,
  ProjectGroupRepository,
  ProjectRepository,
  ReleaseRepository,
  ServerTaskWaiter,
  SpaceScopedBasicRepository,
  resolveSpaceId,
  spaceScopedRoutePrefix,
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

const group = await new ProjectGroupRepository(client, space).create({ Name: "Compat group" });
const environment = await new EnvironmentRepository(client, space).create({ Name: "Compat QA" });
if (!environment.Id || environment.Name !== "Compat QA") fail(`unexpected environment: ${JSON.stringify(environment)}`);
const lifecycles = await new LifecycleRepository(client, space).list({ partialName: "Anywhere" });
const project = await new ProjectRepository(client, space).create({
  Name: "Compat API", ProjectGroupId: group.Id, LifecycleId: lifecycles.Items[0].Id,
});
if (!project.Id || project.ProjectGroupId !== group.Id) fail(`unexpected project: ${JSON.stringify(project)}`);
const machines = new SpaceScopedBasicRepository(client, space, `${spaceScopedRoutePrefix}/machines`, "skip,take,ids");
const machine = await machines.create({
  Name: "compat-api-01", EnvironmentIds: [environment.Id], Roles: ["api"],
  Endpoint: { CommunicationStyle: "TentaclePassive", Uri: "https://compat-api-01:10933/", Thumbprint: "ABCDEF" },
});
if (!machine.Id || machine.Roles[0] !== "api") fail(`unexpected machine: ${JSON.stringify(machine)}`);
const file = join(mkdtempSync(join(tmpdir(), "compat-")), "Compat.Api.1.0.0.zip");
writeFileSync(file, "PK compat package");
await new PackageRepository(client, space).push([file], OverwriteMode.FailIfExists);
let duplicate = null;
try {
  await new PackageRepository(client, space).push([file], OverwriteMode.FailIfExists);
} catch (error) {
  duplicate = String(error && error.message);
}
if (duplicate === null) fail("pushing the same package version twice was accepted");

console.log(JSON.stringify({
  spaceId, releaseId: release.ReleaseId, deploymentId, taskId, state: task.State, refusal,
  environmentId: environment.Id, projectId: project.Id, machineId: machine.Id, groupId: group.Id, duplicate,
}));
