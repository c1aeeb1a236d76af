/** The object types tsdock reports changes of (docker's events.Type values that apply without a daemon). */
export type EventType = 'container' | 'image' | 'volume' | 'network';

/** One line of the event log: docker's events.Message as `docker events --format json` prints it. */
export interface EngineEvent {
  /** deprecated docker fields, kept for container and image events: the action, the actor's id, the image */
  status?: string;
  id?: string;
  from?: string;
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  /** seconds since the epoch */
  time: number;
  /** nanoseconds since the epoch (a JSON number: read back exactly with readTimeNano) */
  timeNano: number;
}

/** What a writer says about an event; the time and the docker shape are added when it is written. */
export interface NewEvent {
  type: EventType;
  action: string;
  /** the object's id (a container's, an image's id or reference, a volume's or network's name/id) */
  id: string;
  attributes?: Record<string, string>;
  /** container events: the image as the user named it (docker's `from`) */
  from?: string;
}
