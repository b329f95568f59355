import assert from "node:assert/strict";
import {
  consumerConfig,
  defaultConfig,
  loadConfig,
  parsePassThrough,
  producerConfig,
  type RacecarConfig,
  securityConfig,
} from "../../src/config/mod.ts";
import { assertConfigError } from "./_helpers.ts";

function config(overrides: Partial<RacecarConfig>): RacecarConfig {
  return { ...defaultConfig(), ...overrides };
}

Deno.test("`consumerConfig()` maps every consumer setting with durations in ms", () => {
  const props = consumerConfig(
    config({ groupId: "orders", brokers: ["a:1", "b:2"], maxWaitTime: 0.25 }),
  );
  assert.deepEqual(props, {
    "enable.auto.offset.store": "false",
    "enable.partition.eof": "false",
    "auto.offset.reset": "earliest",
    "max.partition.fetch.bytes": "1048576",
    "bootstrap.servers": "a:1,b:2",
    "client.id": "racecar",
    "group.id": "orders",
    "partition.assignment.strategy": "range,roundrobin",
    "auto.commit.interval.ms": "10000",
    "isolation.level": "read_committed",
    "session.timeout.ms": "30000",
    "heartbeat.interval.ms": "10000",
    "max.poll.interval.ms": "300000",
    "socket.timeout.ms": "30000",
    "fetch.max.bytes": "10485760",
    "queued.min.messages": "2000",
    "fetch.min.bytes": "1",
    "statistics.interval.ms": "0",
  });
});

Deno.test("`consumerConfig()` derives offset reset and partition fetch size from the subscription", () => {
  const props = consumerConfig(defaultConfig(), {
    topic: "t",
    startFromBeginning: false,
    maxBytesPerPartition: 2048,
  });
  assert.equal(props["auto.offset.reset"], "latest");
  assert.equal(props["max.partition.fetch.bytes"], "2048");
  assert.equal(props["message.max.bytes"], undefined);
});

Deno.test("`consumerConfig()` leaves fetch.wait.max.ms to the adapter, whatever max_wait_time", () => {
  // The adapters add Racecar's default (src/kafka/_defaults.ts); max_wait_time is the poll's.
  assert.equal(consumerConfig(config({ maxWaitTime: 5 }))["fetch.wait.max.ms"], undefined);
  assert.equal(
    consumerConfig(config({ consumer: ["fetch.wait.max.ms=500"] }))["fetch.wait.max.ms"],
    "500",
  );
});

Deno.test("`consumerConfig()` emits statistics only when asked", () => {
  const c = config({ statisticsInterval: 2.5 });
  assert.equal(consumerConfig(c)["statistics.interval.ms"], "0");
  assert.equal(
    consumerConfig(c, undefined, { statistics: true })["statistics.interval.ms"],
    "2500",
  );
  assert.equal(producerConfig(c, { statistics: true })["statistics.interval.ms"], "2500");
});

Deno.test("`consumerConfig()` merges base < pass-through < additionalConfig", () => {
  const props = consumerConfig(
    config({
      consumer: ["fetch.min.bytes = 100", "client.id=raw", "sasl.oauthbearer.config=a=b"],
      securityProtocol: "sasl_plaintext",
    }),
    { topic: "t", additionalConfig: { "client.id": "sub", "fetch.wait.max.ms": 5, x: true } },
  );
  assert.equal(props["fetch.min.bytes"], "100");
  assert.equal(props["client.id"], "sub");
  assert.equal(props["fetch.wait.max.ms"], "5");
  assert.equal(props["x"], "true");
  assert.equal(props["sasl.oauthbearer.config"], "a=b");
  assert.equal(props["security.protocol"], "sasl_plaintext");
});

Deno.test("`consumerConfig()` lets pass-through entries override security properties", () => {
  const props = consumerConfig(
    config({ securityProtocol: "ssl", consumer: ["security.protocol=plaintext"] }),
  );
  assert.equal(props["security.protocol"], "plaintext");
});

Deno.test("`producerConfig()` maps producer settings and pass-through entries", () => {
  assert.deepEqual(producerConfig(defaultConfig()), {
    "bootstrap.servers": "localhost:9092",
    "client.id": "racecar",
    "enable.idempotence": "true",
    "message.timeout.ms": "300000",
    partitioner: "consistent_random",
    "statistics.interval.ms": "0",
  });
  const props = producerConfig(
    config({ producerCompressionCodec: "zstd", producer: ["linger.ms=5", "partitioner=murmur2"] }),
  );
  assert.equal(props["compression.codec"], "zstd");
  assert.equal(props["linger.ms"], "5");
  assert.equal(props.partitioner, "murmur2");
  assert.equal(props["group.id"], undefined);
  assert.equal(props["fetch.wait.max.ms"], undefined);
});

Deno.test("`producerConfig()` turns idempotence on unless a producer entry turns it off", () => {
  assert.equal(producerConfig(defaultConfig())["enable.idempotence"], "true");
  const props = producerConfig(config({ producer: ["enable.idempotence=false"] }));
  assert.equal(props["enable.idempotence"], "false");
});

Deno.test("`securityConfig()` maps SSL and SASL settings to both clients", () => {
  const c = config({
    securityProtocol: "sasl_ssl",
    sslCaLocation: "/ca.pem",
    sslCaPem: "CA",
    sslCrlLocation: "/crl",
    sslKeystoreLocation: "/ks.p12",
    sslKeystorePassword: "ksp",
    sslCertificateLocation: "/cert.pem",
    sslCertificatePem: "CERT",
    sslKeyLocation: "/key.pem",
    sslKeyPem: "KEY",
    sslKeyPassword: "kp",
    saslMechanism: "OAUTHBEARER",
    saslKerberosServiceName: "kafka",
    saslKerberosPrincipal: "me",
    saslKerberosKinitCmd: "kinit",
    saslKerberosKeytab: "/keytab",
    saslKerberosMinTimeBeforeRelogin: 60000,
    saslUsername: "u",
    saslPassword: "p",
    saslOauthbearerConfig: "principal=admin",
  });
  const expected = {
    "security.protocol": "sasl_ssl",
    "ssl.ca.location": "/ca.pem",
    "ssl.ca.pem": "CA",
    "ssl.crl.location": "/crl",
    "ssl.keystore.location": "/ks.p12",
    "ssl.keystore.password": "ksp",
    "ssl.certificate.location": "/cert.pem",
    "ssl.certificate.pem": "CERT",
    "ssl.key.location": "/key.pem",
    "ssl.key.pem": "KEY",
    "ssl.key.password": "kp",
    "sasl.mechanism": "OAUTHBEARER",
    "sasl.kerberos.service.name": "kafka",
    "sasl.kerberos.principal": "me",
    "sasl.kerberos.kinit.cmd": "kinit",
    "sasl.kerberos.keytab": "/keytab",
    "sasl.kerberos.min.time.before.relogin": "60000",
    "sasl.username": "u",
    "sasl.password": "p",
    "sasl.oauthbearer.config": "principal=admin",
    "ssl.endpoint.identification.algorithm": "https",
    "enable.ssl.certificate.verification": "true",
  };
  assert.deepEqual(securityConfig(c), expected);
  const consumer = consumerConfig(c);
  const producer = producerConfig(c);
  for (const [key, value] of Object.entries(expected)) {
    assert.equal(consumer[key], value, key);
    assert.equal(producer[key], value, key);
  }
});

Deno.test("`securityConfig()` maps host name and certificate verification separately", () => {
  assert.deepEqual(securityConfig(config({ securityProtocol: "ssl", sslVerifyHostname: false })), {
    "security.protocol": "ssl",
    "ssl.endpoint.identification.algorithm": "none",
    "enable.ssl.certificate.verification": "true",
  });
  assert.deepEqual(
    securityConfig(config({ securityProtocol: "ssl", sslVerifyCertificate: false })),
    {
      "security.protocol": "ssl",
      "ssl.endpoint.identification.algorithm": "https",
      "enable.ssl.certificate.verification": "false",
    },
  );
});

Deno.test("`securityConfig()` sends no TLS properties when TLS is off and checks are default", () => {
  assert.deepEqual(securityConfig(defaultConfig()), {});
  assert.deepEqual(securityConfig(config({ sslVerifyCertificate: false })), {
    "enable.ssl.certificate.verification": "false",
  });
});

Deno.test("`parsePassThrough()` splits on the first = and trims", () => {
  assert.deepEqual(parsePassThrough([" a = 1 ", "b=x=y", "c="], "producer"), {
    a: "1",
    b: "x=y",
    c: "",
  });
});

Deno.test("`consumerConfig()` names a malformed pass-through entry", async () => {
  await assertConfigError(
    () => consumerConfig(config({ consumer: ["fetch.min.bytes"] })),
    `Invalid configuration 'consumer': expected entries of the form "key=value", got ` +
      `"fetch.min.bytes"`,
    "consumer",
  );
  await assertConfigError(
    () => producerConfig(config({ producer: [" =1"] })),
    /'producer': expected entries of the form "key=value", got " =1"/,
    "producer",
  );
});

Deno.test("`consumerConfig()` maps group_instance_id to group.instance.id, and only when set", async () => {
  const loaded = await loadConfig({
    env: { RACECAR_GROUP_INSTANCE_ID: "payments-0" },
    skipFiles: true,
  });
  assert.equal(consumerConfig(loaded)["group.instance.id"], "payments-0");
  assert.equal(producerConfig(loaded)["group.instance.id"], undefined);
  assert.equal("group.instance.id" in consumerConfig(defaultConfig()), false);
});
