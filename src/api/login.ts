import type { Context } from '../context.js';
import { loginRegistry, logoutRegistry, type LoginOptions } from '../image/login.js';

export type { LoginOptions };

/** `tsdock login`: verify credentials against the registry, then save them where docker's tools find them. */
export async function login(options: LoginOptions, ctx: Context): Promise<{ registry: string; savedTo: string }> {
  return loginRegistry(options, ctx);
}

/** `tsdock logout`: remove a registry's saved credentials (every registry's with `all`). */
export async function logout(options: { server?: string; all?: boolean; authFile?: string }, ctx: Context): Promise<{ registry?: string; removed: string[] }> {
  return logoutRegistry(options, ctx);
}
