/**
 * Every MQTT topic this server uses, from the two configured prefixes (README "Home Assistant and MQTT"). Topic
 * levels built from names people chose (platforms) keep only letters, digits, `_`, `-` and `.`, so nothing a name
 * holds can become a wildcard (`+`, `#`) or a level separator.
 */
export class MqttTopics {
  /** The discovery `node_id`: the topic prefix as one level. */
  readonly node: string;

  constructor(
    readonly prefix: string,
    readonly discoveryPrefix: string,
  ) {
    this.node = prefix.replace(/\//g, '_');
  }

  /** Retained `online` while this server is connected; the broker publishes `offline` (its will) when it is not. */
  get availability(): string {
    return `${this.prefix}/status`;
  }

  /** Home Assistant's discovery topic of a device's `update` entity (retained; empty removes the entity). */
  config(mac: string): string {
    return `${this.discoveryPrefix}/update/${this.node}/${mac}/config`;
  }

  state(mac: string): string {
    return `${this.prefix}/device/${mac}/state`;
  }

  /** Where Home Assistant publishes `install` when a person presses Install. */
  install(mac: string): string {
    return `${this.prefix}/device/${mac}/install`;
  }

  get installSubscription(): string {
    return `${this.prefix}/device/+/install`;
  }

  /** The MAC an install command is for, when the topic is one of ours and names a MAC. */
  installMac(topic: string): string | undefined {
    const head = `${this.prefix}/device/`;
    if (!topic.startsWith(head) || !topic.endsWith('/install')) return undefined;
    const mac = topic.slice(head.length, -'/install'.length);
    return /^[0-9a-f]{12}$/.test(mac) ? mac : undefined;
  }

  /** Events of a platform; `_server` for those of no platform (accounts, tokens). */
  events(platform: string | null): string {
    return `${this.prefix}/events/${platform ? topicLevel(platform) : '_server'}`;
  }
}

export function topicLevel(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_') || '_';
}
