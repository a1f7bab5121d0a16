import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DockerfileParser } from 'dockerfile-ast';
import type { Copy, From, Instruction, JSONInstruction } from 'dockerfile-ast';
import picomatch from 'picomatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/run-cli.js';
import { ENTRYPOINT, loadManifests, workloads } from './load-manifests.js';

const run = promisify(execFile);
const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

/** The instructions of each build stage, a stage starting at its FROM. */
function stages(): { from: From; instructions: Instruction[] }[] {
  const found: { from: From; instructions: Instruction[] }[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') found.push({ from: instruction as From, instructions: [] });
    else found.at(-1)?.instructions.push(instruction);
  }
  return found;
}
const keyword = (stage: { instructions: Instruction[] }, name: string): Instruction[] => stage.instructions.filter((i) => i.getKeyword() === name);
const runs = (stage: { instructions: Instruction[] }): string[] => keyword(stage, 'RUN').map((i) => i.getArgumentsContent() ?? '');

/** The image's uid, the pods' runAsUser. */
const POD_UIDS = workloads(loadManifests()).flatMap((w) => [w.pod.securityContext?.runAsUser, ...w.pod.containers.map((c) => c.securityContext?.runAsUser)].filter((u) => u !== undefined));

describe('the Dockerfile', () => {
  it('builds in two stages from a pinned node:20 bookworm-slim image', () => {
    const all = stages();
    expect(all.map((s) => s.from.getBuildStage())).toEqual(['build', 'runtime']);
    for (const { from } of all) {
      const image = from.getImage()!.replace(/^\$\{?(\w+)\}?$/, (_m, name: string) => dockerfile.resolveVariable(name, from.getRange().start.line) ?? '');
      // A full version, so a rebuild gets the Node the tests ran on; a digest may follow.
      expect(image).toMatch(/^node:20\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
    }
  });

  it('compiles in the build stage and installs only production dependencies, without scripts, in the runtime stage', () => {
    const [build, runtime] = stages();
    expect(runs(build!).some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs(build!).some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    const install = runs(runtime!).filter((r) => /\bnpm (ci|install|i)\b/.test(r));
    expect(install).toHaveLength(1);
    expect(install[0]).toMatch(/\bnpm ci\b/);
    expect(install[0]).toMatch(/--omit=dev\b/);
    // The `prepare` script builds with tsc, a dev dependency that is not installed there.
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.prepare).toBeDefined();
    expect(install[0]).toMatch(/--ignore-scripts\b/);
    expect(runs(runtime!).some((r) => /\b(tsc|npm run build)\b/.test(r))).toBe(false);
    const copies = keyword(runtime!, 'COPY') as Copy[];
    const fromBuild = copies.filter((c) => c.getFromFlag()?.getValue() === 'build').map((c) => c.getArguments()[0]!.getValue());
    expect(fromBuild.sort()).toEqual(['/src/bin', '/src/dist']);
    // Sources, tests and the build's node_modules stay out of the image.
    const fromContext = copies.filter((c) => !c.getFromFlag()).flatMap((c) => c.getArguments().slice(0, -1).map((a) => a.getValue()));
    expect(fromContext.sort()).toEqual(['package-lock.json', 'package.json']);
  });

  it('runs as a numeric non-root user, the uid the pods run as, with the entrypoint the manifests use', () => {
    const runtime = stages().at(-1)!;
    const env = keyword(runtime, 'ENV').map((i) => i.getArgumentsContent());
    expect(env).toContain('NODE_ENV=production');
    const users = keyword(runtime, 'USER').map((i) => i.getArgumentsContent()!);
    expect(users).toHaveLength(1);
    const uid = Number(users[0]!.split(':')[0]);
    expect(uid).toBeGreaterThan(0);
    expect(new Set(POD_UIDS)).toEqual(new Set([uid]));
    // The last USER is the one that runs: nothing after it may switch back.
    expect(runtime.instructions.at(-1)!.getKeyword()).not.toBe('USER');
    const entrypoints = keyword(runtime, 'ENTRYPOINT') as JSONInstruction[];
    expect(entrypoints).toHaveLength(1);
    // The JSON (exec) form: node is PID 1 and receives Kubernetes' SIGTERM itself.
    const argv = entrypoints[0]!.getJSONStrings().map((s) => s.getJSONValue());
    expect(argv).toEqual(ENTRYPOINT);
    expect(keyword(runtime, 'WORKDIR').map((i) => i.getArgumentsContent())).toEqual(['/app']);
    expect(argv[1]!.startsWith('/app/')).toBe(true);
  });

  it('keeps what it copies in the build context and node_modules out of it', () => {
    const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const ignored = (path: string): boolean => patterns.some((p) => picomatch(p, { dot: true })(path) || path.startsWith(`${p}/`));
    const copied = stages().flatMap((s) =>
      (keyword(s, 'COPY') as Copy[]).filter((c) => !c.getFromFlag()).flatMap((c) => c.getArguments().slice(0, -1).map((a) => a.getValue())),
    );
    expect(copied.length).toBeGreaterThan(0);
    for (const path of copied) expect(ignored(path), path).toBe(false);
    for (const path of ['node_modules', 'dist', '.git', 'test']) expect(ignored(path), path).toBe(true);
  });
});

describe('the runtime layout, built as the runtime stage builds it', () => {
  const asRoot = process.getuid?.() === 0;
  // As root, the CLI runs as nobody: root would write through the read-only modes.
  const NOBODY = 65534;
  let app: string;
  let work: string;
  let installMs = 0;

  beforeAll(async () => {
    app = await mkdtemp(join(tmpdir(), 'auditreplay-app-'));
    work = await mkdtemp(join(tmpdir(), 'auditreplay-work-'));
    await cp(join(ROOT, 'package.json'), join(app, 'package.json'));
    await cp(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
    const started = Date.now();
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, maxBuffer: 16 << 20 });
    installMs = Date.now() - started;
    // dist/ is built from the sources by the global setup, as the build stage does.
    await cp(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
    await cp(join(ROOT, 'bin'), join(app, 'bin'), { recursive: true });
    await run('chmod', ['-R', 'a-w', app]);
    // mkdtemp's 0700 would keep another user out altogether.
    await chmod(app, 0o555);
    // The logs, copied where the CLI's user may read them wherever the repository lives.
    await cp(join(ROOT, 'samples', 'logs', 'postgres'), join(work, 'logs'), { recursive: true });
    if (asRoot) await run('chown', ['-R', `${NOBODY}:${NOBODY}`, work]);
  }, 240_000);

  afterAll(async () => {
    if (app) {
      await run('chmod', ['-R', 'u+w', app]);
      await rm(app, { recursive: true, force: true });
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Runs a command in the app dir, as the image would: non-root, a bare environment, TMPDIR and HOME writable. */
  const inImage = (argv: string[]) => {
    const user = asRoot ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'] : [];
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, TMPDIR: work, NODE_ENV: 'production' };
    const [file, ...args] = [...user, ...argv];
    return run(file!, args, { cwd: app, env, maxBuffer: 16 << 20 });
  };
  /** The summary a run ends its stderr with (a JSON line with type "summary"). */
  const summaryOf = (stderr: string): Record<string, unknown> => {
    const lines = stderr.trim().split('\n').reverse();
    for (const line of lines) {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed.type === 'summary') return parsed;
      } catch {
        // a human line
      }
    }
    throw new Error(`no summary in: ${stderr}`);
  };
  const cli = (args: string[]) => inImage([process.execPath, join(app, 'bin', 'auditreplay.js'), ...args]);

  it('holds no dev dependency and cannot be written to by the CLI user', async () => {
    expect(existsSync(join(app, 'node_modules', 'commander'))).toBe(true);
    for (const dev of ['typescript', 'vitest', 'kubernetes-models']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    await expect(inImage([process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(join(app, 'probe'))}, 'x')`])).rejects.toMatchObject({
      stderr: expect.stringMatching(/EACCES/),
    });
  });

  it('syncs, extracts and compares the samples with production dependencies only, writing nothing into the app dir', async () => {
    const started = Date.now();
    const window = ['--from', '2026-11-17', '--to', '2026-11-21'];
    const sync = summaryOf((await cli(['sync', '--source', join(work, 'logs'), ...window, '--target', `pglite://${join(work, 'secondary')}`, '--progress', 'none'])).stderr);
    expect(sync.applied).toBeGreaterThan(0);
    expect(sync.failed).toBe(0);
    const extract = summaryOf((await cli(['extract', '--source', join(work, 'logs'), ...window, '--out', join(work, 'events.jsonl'), '--progress', 'none'])).stderr);
    expect(extract.selected).toBeGreaterThan(0);
    expect((await readFile(join(work, 'events.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(extract.selected as number);
    // compare spills both sides to TMPDIR; the logs on both sides match each other in full.
    await cli(['compare', '--baseline-logs', join(work, 'logs'), '--candidate-logs', join(work, 'logs'), ...window, '--json', join(work, 'report.json')]);
    const report = JSON.parse(await readFile(join(work, 'report.json'), 'utf8')) as { join: { matched: number; missing: number } };
    expect(report.join.matched).toBeGreaterThan(0);
    expect(report.join.missing).toBe(0);
    const runMs = Date.now() - started;
    // The figures the report quotes: npm ci from the warm cache, then the three runs.
    console.log(`runtime layout: npm ci --omit=dev ${installMs} ms, sync + extract + compare ${runMs} ms`);
  }, 120_000);
});
