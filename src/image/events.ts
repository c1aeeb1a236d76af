import { appendEvent } from '../events/log.js';
import type { ImageIndexFile } from './store/types.js';

/** docker's image event: the actor is the image's id or the reference acted on, `name` the reference. */
export function imageEvent(root: string, action: string, id: string, name: string = id): void {
  appendEvent(root, { type: 'image', action, id, attributes: { name } });
}

/** tag → image id of an index */
function tagsOf(index: ImageIndexFile): Map<string, string> {
  const tags = new Map<string, string>();
  for (const img of Object.values(index.images)) for (const t of img.repoTags) tags.set(t, img.id);
  return tags;
}

/**
 * What one change of the image index did, as docker's events: `untag` of every name that left an image (moved
 * or removed), `tag` of every name that came, `delete` of every image that is gone. Whichever verb made the
 * change (tag, rmi, prune, pull, load, build, commit) reports it through here (ImageStore.update).
 */
export function indexChangeEvents(root: string, before: ImageIndexFile): (after: ImageIndexFile) => void {
  const oldTags = tagsOf(before);
  const oldIds = Object.keys(before.images);
  return (after) => {
    const newTags = tagsOf(after);
    for (const [tag, id] of oldTags) if (newTags.get(tag) !== id) imageEvent(root, 'untag', id, tag);
    for (const [tag, id] of newTags) if (oldTags.get(tag) !== id) imageEvent(root, 'tag', id, tag);
    for (const id of oldIds) if (!after.images[id]) imageEvent(root, 'delete', id);
  };
}
