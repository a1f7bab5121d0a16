import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configKeys, configurableCommands, envName } from '../../src/cli/config/config-keys.js';
import { loadConfigFile } from '../../src/cli/config/config-file.js';
import { redactValue } from '../../src/cli/config/print-config.js';
import { buildProgram, checkInvocation } from '../../src/cli/main.js';
import { ROOT, runCli } from '../helpers/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'auditreplay-config-'));
let files = 0;
/** Writes a config file (YAML, or JSON for a .json name) and returns its path. */
function configFile(text: string, name = `c${++files}.yaml`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const program = () => buildProgram(async () => {});
const usage = (p: Promise<unknown>) => expect(p).rejects.toMatchObject({ code: 'usage' });

describe('config keys', () => {
  it('gives every flag of every command a config key and an env variable, and the schema accepts each', () => {
    const p = program();
    let flags = 0;
    for (const command of configurableCommands(p)) {
      const section: Record<string, unknown> = {};
      for (const option of command.options) {
        if (!option.long || option.long === '--config') continue;
        flags++;
        const key = configKeys(command).find((k) => k.flag === option.long);
        expect(key, `${command.name()} ${option.long}`).toBeDefined();
        expect(key!.env).toBe(envName(key!.key));
        section[key!.key] = key!.kind === 'boolean' ? true : key!.kind === 'list' ? ['a=b'] : 'x';
      }
      const path = configFile(JSON.stringify({ [command.name()]: section }), `all-${command.name()}.json`);
      expect(loadConfigFile(path, p).sections[command.name()]).toBeDefined();
    }
    expect(flags).toBeGreaterThan(80);
  });

  it('refuses an unknown key with its file, line and the key it probably meant', () => {
    const path = configFile('source: logs\nreplay:\n  speed: 2\n  concurency: 4\n');
    expect(() => loadConfigFile(path, program())).toThrow(`${path}:4: unknown key 'replay.concurency' (did you mean 'concurrency'?)`);
    const top = configFile('sourse: logs\n');
    expect(() => loadConfigFile(top, program())).toThrow(/:1: unknown key 'sourse' \(did you mean 'source'\?\)/);
  });

  it("refuses a key in a command's section that is a flag of another command only", () => {
    const path = configFile('sync:\n  speed: max\n');
    expect(() => loadConfigFile(path, program())).toThrow(/unknown key 'sync.speed'/);
  });

  it('refuses a value of the wrong type, and YAML that does not parse', () => {
    expect(() => loadConfigFile(configFile('replay:\n  dry-run: maybe\n'), program())).toThrow(/:2: replay.dry-run/);
    expect(() => loadConfigFile(configFile('replay:\n  speed: [1, 2]\n'), program())).toThrow(/replay.speed/);
    expect(() => loadConfigFile(configFile('replay: [\n'), program())).toThrow(/config file/);
    expect(() => loadConfigFile(join(dir, 'missing.yaml'), program())).toThrow(/cannot read the config file .*missing.yaml: ENOENT/);
  });
});

describe('precedence: flags, then env, then file, then defaults', () => {
  const file = configFile('source: from-file\ntarget: pglite://memory\nfrom: 2026-11-17\nreplay:\n  speed: 4\n  concurrency: 2\n  user-map: [a=b, c=d]\n  tag: false\n');

  it('takes a value from the file over the default', async () => {
    const { values } = await checkInvocation(['replay', '--config', file]);
    expect(values).toMatchObject({ source: 'from-file', speed: '4', concurrency: '2', userMap: ['a=b', 'c=d'], tag: false, lockTimeout: '1s' });
  });

  it('takes an env variable over the file, and a flag over both', async () => {
    const env = { AUDITREPLAY_SPEED: '2', AUDITREPLAY_CONCURRENCY: '16' };
    expect((await checkInvocation(['replay', '--config', file], env)).values).toMatchObject({ speed: '2', concurrency: '16' });
    expect((await checkInvocation(['replay', '--config', file, '--speed', 'max'], env)).values).toMatchObject({ speed: 'max', concurrency: '16' });
  });

  it('replaces a list from the file or env with the flags given, rather than adding to it', async () => {
    expect((await checkInvocation(['replay', '--config', file, '--user-map', 'x=y'])).values.userMap).toEqual(['x=y']);
    expect((await checkInvocation(['replay', '--config', file], { AUDITREPLAY_USER_MAP: 'e=f, g=h' })).values.userMap).toEqual(['e=f', 'g=h']);
    expect((await checkInvocation(['replay', '--config', file], { AUDITREPLAY_USER_MAP: '["i=j,k"]' })).values.userMap).toEqual(['i=j,k']);
  });

  it('reads booleans from env, and refuses a value that is not one', async () => {
    expect((await checkInvocation(['replay', '--config', file], { AUDITREPLAY_TAG: 'true', AUDITREPLAY_DRY_RUN: 'yes' })).values).toMatchObject({ tag: true, dryRun: true });
    await usage(checkInvocation(['replay', '--config', file], { AUDITREPLAY_DRY_RUN: 'maybe' }));
  });

  it('lets a section win over the keys at the top', async () => {
    const f = configFile('source: top\nsync:\n  source: section\n  target: pglite://memory\n');
    expect((await checkInvocation(['sync', '--config', f])).values.source).toBe('section');
  });

  it('finds the file through AUDITREPLAY_CONFIG, and a JSON file works as YAML does', async () => {
    const json = configFile(JSON.stringify({ source: 'j', sync: { target: 'pglite://memory' } }), 'c.json');
    expect((await checkInvocation(['sync'], { AUDITREPLAY_CONFIG: json })).values).toMatchObject({ source: 'j', target: 'pglite://memory' });
  });

  it('satisfies a required flag from the file or env, and still refuses a command missing one', async () => {
    await expect(checkInvocation(['sync', '--source', 'logs'], { AUDITREPLAY_TARGET: 'pglite://memory' })).resolves.toMatchObject({ command: 'sync' });
    await expect(checkInvocation(['sync', '--source', 'logs'])).rejects.toThrow(/--target <url>' not specified/);
  });

  it('refuses an AUDITREPLAY_ variable that sets no flag, naming the one it probably meant', async () => {
    await expect(checkInvocation(['sync', '--source', 'l', '--target', 't'], { AUDITREPLAY_TAGRET: 'x' })).rejects.toThrow(
      'unknown environment variable AUDITREPLAY_TAGRET (did you mean AUDITREPLAY_TARGET?)',
    );
  });
});

describe('auditreplay config print', () => {
  it('prints the effective settings with where each came from, passwords and signatures redacted', async () => {
    const file = configFile('sync:\n  source: az://acct/logs?sv=2024&sig=SECRETSIG\n  batch: 50\n');
    const r = await runCli(['config', 'print', 'sync', '--config', file, '--on-error', 'skip'], {
      env: { AUDITREPLAY_TARGET: 'postgres://sync:hunter2@db:5432/postgres' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('hunter2');
    expect(r.stdout).not.toContain('SECRETSIG');
    const printed = parseYaml(r.stdout) as { sync: Record<string, unknown> };
    expect(printed.sync).toMatchObject({ target: 'postgres://sync@db:5432/postgres', batch: '50', 'on-error': 'skip', kinds: 'ddl,dcl' });
    expect(r.stdout).toMatch(/target: .* # env AUDITREPLAY_TARGET/);
    expect(r.stdout).toMatch(/batch: "50" # file/);
    expect(r.stdout).toMatch(/on-error: skip # flag/);
    expect(r.stdout).toMatch(/kinds: ddl,dcl # default/);
  });

  it('says which required flags are not set', async () => {
    const r = await runCli(['config', 'print', 'verify']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('required and not set: primary, secondary');
  });

  it('redacts secrets in URLs, connection strings and secret-named keys', () => {
    expect(redactValue('target', 'postgres://u:p%40ss@h/db?sslpassword=x&sslmode=require')).toBe('postgres://u@h/db?sslmode=require');
    expect(redactValue('source', 'az://a/c?sig=abc&sv=1')).toBe('az://a/c?sig=[redacted]&sv=1');
    expect(redactValue('target', 'host=h password=pw user=u')).toBe('host=h password=[redacted] user=u');
    expect(redactValue('api-token', 'abc')).toBe('[redacted]');
  });

  it('prints a JSON Schema of the file that names every command', async () => {
    const r = await runCli(['config', 'schema']);
    expect(r.code, r.stderr).toBe(0);
    const schema = JSON.parse(r.stdout) as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['extract', 'sync', 'verify', 'replay', 'compare', 'source', 'target']));
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('a command run from a config file', () => {
  it('extracts the same events from the file and env as from the same flags', async () => {
    const flags = await runCli(['extract', '--source', 'samples/logs', '--from', '2026-11-17', '--to', '2026-11-21', '--kind', 'ddl,dcl']);
    expect(flags.code, flags.stderr).toBe(0);
    const file = configFile('source: samples/logs\nextract:\n  from: 2026-11-17\n  to: 2026-11-21\n');
    const configured = await runCli(['extract'], { env: { AUDITREPLAY_CONFIG: file, AUDITREPLAY_KIND: 'ddl,dcl' } });
    expect(configured.code, configured.stderr).toBe(0);
    expect(configured.stdout.length).toBeGreaterThan(1000);
    expect(configured.stdout).toBe(flags.stdout);
  });

  it('fails with exit 2 and the file and line of a bad key', async () => {
    const file = configFile('extract:\n  source: samples/logs\n  form: 2026-11-17\n');
    const r = await runCli(['extract', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3: unknown key 'extract.form' (did you mean 'from'?)`);
  });
});

describe('the README', () => {
  it('has one full config example per command, each a valid invocation', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Configuration'));
    const examples = [...section.matchAll(/```yaml\n# auditreplay ([a-z]+)\n([\s\S]*?)```/g)].map((m) => ({ command: m[1]!, text: m[2]! }));
    const commands = configurableCommands(program()).map((c) => c.name());
    expect(examples.map((e) => e.command).sort()).toEqual([...commands].sort());
    for (const e of examples) {
      const path = configFile(e.text, `readme-${e.command}.yaml`);
      const { command } = await checkInvocation([e.command, '--config', path], { PGPASSWORD: 'x' });
      expect(command).toBe(e.command);
    }
  });
});
