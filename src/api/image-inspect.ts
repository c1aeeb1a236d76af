import { goMap } from './go-map.js';
import type { Context } from '../context.js';
import { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import type { ImageConfig } from '../image/manifest.js';
import { familiarTag } from './rmi.js';
import { familiarName } from '../image/reference.js';

/** docker's image inspect object (the fields docker documents; values from the stored config). */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: Record<string, unknown>;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  GraphDriver: { Name: string; Data: Record<string, string> };
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

export async function loadConfig(store: ImageStore, img: ImageRecord): Promise<ImageConfig> {
  return JSON.parse((await store.blobs.get(img.configDigest)).toString('utf8')) as ImageConfig;
}


export async function inspectImages(names: string[], ctx: Context): Promise<ImageInspect[]> {
  const store = new ImageStore(ctx.root);
  const out: ImageInspect[] = [];
  for (const name of names) {
    const img = await store.resolve(name);
    const config = await loadConfig(store, img);
    const c = config.config ?? {};
    const diffs = img.layers.map((l) => store.layers.diffDir(l.chainId)).reverse();
    out.push({
      Id: img.id,
      RepoTags: img.repoTags.map(familiarTag),
      RepoDigests: img.repoDigests.map((d) => {
        const [repo, digest] = d.split('@');
        const slash = repo!.indexOf('/');
        return `${familiarName({ registry: repo!.slice(0, slash), repository: repo!.slice(slash + 1) })}@${digest}`;
      }),
      Parent: '',
      Comment: (config as { comment?: string }).comment ?? '',
      Created: config.created ?? '0001-01-01T00:00:00Z',
      DockerVersion: (config as { docker_version?: string }).docker_version ?? '',
      Author: config.author ?? '',
      Config: {
        Hostname: '',
        Domainname: '',
        User: c.User ?? '',
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        ...(c.ExposedPorts ? { ExposedPorts: goMap(c.ExposedPorts) } : {}),
        Tty: false,
        OpenStdin: false,
        StdinOnce: false,
        Env: c.Env ?? null,
        Cmd: c.Cmd ?? null,
        ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
        Image: '',
        Volumes: goMap(c.Volumes),
        WorkingDir: c.WorkingDir ?? '',
        Entrypoint: c.Entrypoint ?? null,
        OnBuild: c.OnBuild?.length ? c.OnBuild : null,
        Labels: goMap(c.Labels),
        ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
        ...(c.Shell?.length ? { Shell: c.Shell } : {}),
      },
      Architecture: config.architecture,
      ...(config.variant ? { Variant: config.variant } : {}),
      Os: config.os,
      Size: img.size,
      GraphDriver: {
        Name: 'overlay',
        Data: { UpperDir: diffs[0] ?? '', ...(diffs.length > 1 ? { LowerDir: diffs.slice(1).join(':') } : {}) },
      },
      RootFS: { Type: 'layers', Layers: config.rootfs?.diff_ids ?? [] },
      Metadata: { LastTagTime: img.storedAt },
    });
  }
  return out;
}
