/**
 * The PostgreSQL URL as it may be shown, apart from db.ts: the banner and `shekara start` name a
 * PostgreSQL store without loading the driver (pg), which a SQLite gateway never needs.
 */

/** postgres://user@host:port/db — the URL as it may be logged: never its password. */
export function describePgUrl(url: string): string {
  try {
    const u = new URL(url);
    const host = u.hostname || new URLSearchParams(u.search).get('host') || 'localhost';
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return `${u.protocol}//${user}${host}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable PostgreSQL URL)';
  }
}
