import { randomBytes, randomInt } from '../sys/random.js';

// Docker-style generated names: <adjective>_<surname>. Our own lists (scientists and engineers).
const ADJECTIVES = [
  'admiring', 'amazing', 'awesome', 'blissful', 'bold', 'brave', 'busy', 'charming', 'clever', 'compassionate',
  'competent', 'confident', 'cool', 'dazzling', 'determined', 'dreamy', 'eager', 'ecstatic', 'elastic', 'elegant',
  'epic', 'exciting', 'fervent', 'festive', 'focused', 'friendly', 'frosty', 'funny', 'gallant', 'gifted',
  'goofy', 'gracious', 'great', 'happy', 'hopeful', 'hungry', 'inspiring', 'intelligent', 'jolly', 'jovial',
  'keen', 'kind', 'laughing', 'loving', 'lucid', 'magical', 'modest', 'musing', 'mystifying', 'nervous',
  'nice', 'nifty', 'nostalgic', 'optimistic', 'peaceful', 'pensive', 'practical', 'priceless', 'quirky', 'quizzical',
  'relaxed', 'reverent', 'romantic', 'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'strange', 'sweet',
  'tender', 'thirsty', 'trusting', 'upbeat', 'vibrant', 'vigilant', 'vigorous', 'wizardly', 'wonderful', 'youthful', 'zealous', 'zen',
];
const SURNAMES = [
  'agnesi', 'albattani', 'archimedes', 'babbage', 'bardeen', 'bartik', 'bell', 'bohr', 'boole', 'borg',
  'brattain', 'cannon', 'carson', 'cerf', 'chandrasekhar', 'curie', 'darwin', 'dijkstra', 'einstein', 'euclid',
  'euler', 'faraday', 'fermat', 'fermi', 'feynman', 'franklin', 'galileo', 'gauss', 'goldberg', 'goodall',
  'hamilton', 'hawking', 'heisenberg', 'hertz', 'hodgkin', 'hopper', 'hypatia', 'johnson', 'kepler', 'knuth',
  'kowalevski', 'lamarr', 'leakey', 'lovelace', 'lumiere', 'mayer', 'mccarthy', 'mcclintock', 'meitner', 'mendel',
  'morse', 'newton', 'nobel', 'noether', 'pascal', 'pasteur', 'planck', 'poincare', 'ramanujan', 'ride',
  'ritchie', 'shannon', 'shockley', 'sinoussi', 'stallman', 'swartz', 'tesla', 'thompson', 'torvalds', 'turing',
  'volta', 'wilson', 'wozniak', 'wright', 'yalow', 'yonath',
];

export function generateName(): string {
  const a = ADJECTIVES[randomInt(ADJECTIVES.length)]!;
  const s = SURNAMES[randomInt(SURNAMES.length)]!;
  return `${a}_${s}`;
}

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** docker's container-name rule; a leading "/" is accepted and dropped */
export function validateName(name: string): string {
  const n = name.startsWith('/') ? name.slice(1) : name;
  if (!NAME.test(n)) throw new Error(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return n;
}

/**
 * names/<name> holds `<id> <creator pid> <creator start time>`: the reservation is made before the container
 * directory, so a missing directory means a crash only when the creator is gone. Older files hold just the id.
 */
export interface NameReservation {
  id: string;
  pid?: number;
  startTime?: number;
}

export function parseNameFile(text: string): NameReservation {
  const [id = '', pid, start] = text.trim().split(/\s+/);
  const n = Number(pid);
  const t = Number(start);
  return Number.isInteger(n) && n > 0 && Number.isFinite(t) ? { id, pid: n, startTime: t } : { id };
}

export function formatNameFile(r: NameReservation): string {
  return r.pid !== undefined ? `${r.id} ${r.pid} ${r.startTime ?? 0}\n` : `${r.id}\n`;
}
