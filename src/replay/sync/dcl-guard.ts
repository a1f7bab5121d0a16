/**
 * Refuses DCL that would hand out more power on the secondary than the operator allows.
 * Role names come from the same reading of the statement as renaming (sql-names.ts), so
 * what the guard checks is what the rewrite would map. Role patterns are globs (`*`, `?`):
 * deny patterns ignore case (refusing too much is the safe side), allow patterns compare
 * with the role's catalog name exactly (unquoted names are lower case).
 */
import { T_LPAREN, T_RPAREN, T_WORD } from '../../extract/sql/lexer.js';
import { TokenBuffer, nameOf, walkNames, type RoleUse } from './sql-names.js';

export interface DclGuardOptions {
  allowRoles?: readonly string[];
  denyRoles?: readonly string[];
}

export type GuardDecision = { ok: true } | { ok: false; reason: string };

/** Uses that change a role or what it holds; GRANTED BY, SET ROLE and COMMENT ON ROLE do not. */
const CHANGING: Partial<Record<RoleUse, string>> = {
  create: 'creates',
  alter: 'alters',
  rename: 'renames a role to',
  drop: 'drops',
  'member-of': 'makes a new role a member of',
  member: 'changes the members of a role with',
  admin: 'gives admin option on a new role to',
  granted: 'grants or revokes membership in',
  grantee: 'grants to or revokes from',
  owner: 'gives ownership to',
  'default-privileges': 'changes default privileges of',
  reassign: 'reassigns objects of',
  'drop-owned': 'drops objects owned by',
  policy: 'applies a policy to',
  'user-mapping': 'maps a foreign server user for',
};

/** Predefined roles that give superuser-equivalent access to the server's files and programs. */
const SERVER_ROLES = new Set(['pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program']);

function globRe(pattern: string, flags: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`, flags);
}

const buffer = new TokenBuffer();
const OK: GuardDecision = { ok: true };

interface RoleRef {
  name: string;
  use: RoleUse;
}

/** Refuses (a) any statement creating/altering/granting to/dropping a role that matches denyRoles, (b) CREATE/ALTER ROLE|USER
 *  ... SUPERUSER, and GRANT of pg_read_server_files/pg_write_server_files/pg_execute_server_program (superuser-equivalent), unless
 *  the role is in allowRoles, (c) GRANT ... WITH ADMIN OPTION (and PG16's WITH ADMIN TRUE / ADMIN OPTION TRUE) to a role outside
 *  allowRoles. Defaults: allow none, deny none. Everything else ok. Reason names the role and rule. */
export function makeDclGuard(options: DclGuardOptions = {}): (sql: string) => GuardDecision {
  const deny = (options.denyRoles ?? []).map((p) => ({ p, re: globRe(p, 'i') }));
  const allow = (options.allowRoles ?? []).map((p) => globRe(p, ''));
  const allowed = (name: string): boolean => allow.some((re) => re.test(name));

  return (sql) => {
    const tb = buffer;
    tb.reset(sql);
    const verb = tb.word(0);
    // Only statements that can name roles need the walk; the rest of a night's log is skipped cheaply.
    if (!ROLE_VERBS.has(verb)) return OK;
    const roles: RoleRef[] = [];
    walkNames(tb, {
      role: (tok, use) => {
        const name = nameOf(tb, tok);
        if (name !== null) roles.push({ name, use });
      },
    });

    for (const r of roles) {
      const what = CHANGING[r.use];
      if (what === undefined) continue;
      const d = deny.find((x) => x.re.test(r.name));
      if (d !== undefined) return { ok: false, reason: `refused: statement ${what} role ${r.name}, which matches deny-role '${d.p}'` };
    }

    const n = tb.all();
    const roleStmt = (verb === 'create' || verb === 'alter') && (tb.isWord(1, 'role') || tb.isWord(1, 'user'));
    if (roleStmt && !tb.isWord(2, 'mapping')) {
      for (let i = 2; i < n; i++) {
        if (tb.isWord(i, 'superuser')) {
          const target = roles.find((r) => r.use === 'create' || r.use === 'alter');
          const name = target?.name ?? tb.text(2);
          if (!allowed(name)) return { ok: false, reason: `refused: ${verb.toUpperCase()} ROLE ${name} ... SUPERUSER gives superuser; allow it with allow-role` };
          break;
        }
      }
    }

    // Membership in a server-files role, given by GRANT or CREATE ROLE ... IN ROLE.
    const serverRole = roles.find((r) => (r.use === 'granted' || r.use === 'member-of') && SERVER_ROLES.has(r.name));
    if (serverRole !== undefined && verb !== 'revoke') {
      const receivers = roles.filter((r) => r.use === (serverRole.use === 'granted' ? 'grantee' : 'create'));
      const bad = receivers.find((r) => !allowed(r.name));
      if (bad !== undefined) {
        return { ok: false, reason: `refused: grants ${serverRole.name} (superuser-equivalent) to role ${bad.name}, which is not an allow-role` };
      }
    }
    if (verb === 'alter' && tb.isWord(1, 'group') && SERVER_ROLES.has(nameOf(tb, 2) ?? '') && tb.isWord(3, 'add')) {
      const bad = roles.find((r) => r.use === 'member' && !allowed(r.name));
      if (bad !== undefined) return { ok: false, reason: `refused: adds role ${bad.name} to ${nameOf(tb, 2)} (superuser-equivalent), which is not an allow-role` };
    }

    if (verb === 'grant' && grantsAdmin(tb, n)) {
      const bad = roles.find((r) => r.use === 'grantee' && !allowed(r.name));
      if (bad !== undefined) return { ok: false, reason: `refused: grants a role WITH ADMIN OPTION to role ${bad.name}, which is not an allow-role` };
    }
    if (verb === 'create') {
      const bad = roles.find((r) => r.use === 'admin' && !allowed(r.name));
      if (bad !== undefined) return { ok: false, reason: `refused: CREATE ROLE ... ADMIN gives admin option to role ${bad.name}, which is not an allow-role` };
    }
    return OK;
  };
}

const ROLE_VERBS = new Set(['create', 'alter', 'drop', 'grant', 'revoke', 'reassign', 'comment', 'security']);

/** `WITH ADMIN OPTION`, `WITH ADMIN TRUE|ON`, `WITH ADMIN` (PG16), also within `WITH INHERIT TRUE, ADMIN OPTION`. */
function grantsAdmin(tb: TokenBuffer, n: number): boolean {
  let d = 0;
  let inWith = false;
  for (let i = 1; i < n; i++) {
    const t = tb.t(i);
    if (t === T_LPAREN) d++;
    else if (t === T_RPAREN) d--;
    if (d !== 0 || t !== T_WORD) continue;
    if (tb.isWord(i, 'with')) inWith = true;
    else if (tb.isWord(i, 'granted')) inWith = false;
    else if (inWith && tb.isWord(i, 'admin')) {
      const v = tb.word(i + 1);
      if (v === 'false' || v === 'off') continue;
      if (v === 'option' && (tb.isWord(i + 2, 'false') || tb.isWord(i + 2, 'off'))) continue;
      return true;
    }
  }
  return false;
}
