package graphrec.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.Config;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.QueryExecutionException;
import org.neo4j.io.fs.DefaultFileSystemAbstraction;
import org.neo4j.io.fs.FileSystemAbstraction;
import org.neo4j.kernel.impl.security.User;
import org.neo4j.kernel.internal.Version;
import org.neo4j.logging.NullLogProvider;
import org.neo4j.memory.EmptyMemoryTracker;
import org.neo4j.server.security.SecureHasher;
import org.neo4j.server.security.SystemGraphCredential;
import org.neo4j.server.security.auth.CommunitySecurityModule;
import org.neo4j.server.security.auth.FileUserRepository;
import org.neo4j.string.UTF8;

/**
 * graphrec's embedded Neo4j Community server: one DBMS in this JVM, Bolt on 127.0.0.1 only,
 * the HTTP connectors off, authentication on.
 *
 * <p>The password of user {@code neo4j} comes from a file graphrec generates (mode 0600). It is
 * set while Bolt is still closed, so no client ever sees the expired default password. A new store
 * gets it as its initial password, written where {@code neo4j-admin dbms set-initial-password}
 * writes it ({@code data/dbms/auth.ini}, read once when the system database is created). A store
 * that has not been given this password yet (the password file was replaced) first starts
 * without any connector, runs {@code ALTER USER neo4j SET PASSWORD ... CHANGE NOT REQUIRED}
 * against the system database, stops, and only then starts with Bolt.
 *
 * <p>SIGTERM (and SIGINT) run the JVM's shutdown hooks, which shut the DBMS down cleanly.
 *
 * <p>With {@code --warmup true} it starts, runs a few statements, stops and exits: graphrec runs
 * that once after a build with {@code -XX:ArchiveClassesAtExit}, so later starts load their
 * classes from the archive (class data sharing) and start faster.
 *
 * <p>Arguments: {@code --home DIR --config FILE --password-file FILE --database NAME}. The
 * configuration file (written by graphrec, in {@code neo4j.conf} syntax) holds every setting:
 * Bolt's address, the page cache, transaction-log preallocation, the HTTP connectors off.
 */
public final class Launcher {
    private static final String MARKER = "graphrec-password.sha256";

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        String password = Files.readString(options.passwordFile, StandardCharsets.UTF_8).strip();
        if (password.length() < 8) {
            throw new IllegalArgumentException(options.passwordFile + ": password shorter than 8 characters");
        }
        Path marker = options.home.resolve("data").resolve("dbms").resolve(MARKER);
        String digest = sha256(password);
        if (!Files.isRegularFile(marker) || !Files.readString(marker).strip().equals(digest)) {
            if (Files.isDirectory(options.home.resolve("data").resolve("databases").resolve("system"))) {
                setPassword(options, password);
            } else {
                setInitialPassword(options, password);
            }
            Files.createDirectories(marker.getParent());
            Files.writeString(marker, digest + "\n");
        }

        DatabaseManagementService dbms = build(options, true);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("graphrec: stopping Neo4j");
            dbms.shutdown();
            System.out.println("graphrec: Neo4j stopped");
            System.out.flush();
            stopped.countDown();
        }, "graphrec-shutdown"));
        GraphDatabaseService db = dbms.database(options.database);
        if (!db.isAvailable(120_000)) {
            throw new IllegalStateException("database " + options.database + " did not become available");
        }
        System.out.println("graphrec: Neo4j " + Version.getNeo4jVersion() + " ready");
        System.out.flush();
        if (options.warmup) {
            warmup(db);
            System.exit(0); // runs the shutdown hook; the JVM then writes its class archive
        }
        stopped.await();
    }

    /** The statements graphrec sends most, so that their classes are loaded (and archived). */
    private static void warmup(GraphDatabaseService db) {
        db.executeTransactionally("CREATE CONSTRAINT warm_id IF NOT EXISTS FOR (n:Warm) REQUIRE n.id IS UNIQUE");
        db.executeTransactionally(
                "UNWIND range(1, 100) AS i MERGE (a:Warm {id: toString(i)}) "
                        + "MERGE (b:Warm {id: toString(i % 7)}) MERGE (a)-[r:LINK]->(b) SET r.w = i");
        db.executeTransactionally(
                "MATCH (a:Warm)-[r:LINK]->(b:Warm) WITH a, count(r) AS n ORDER BY a.id RETURN a.id, n LIMIT 10");
        db.executeTransactionally("MATCH (n:Warm) DETACH DELETE n");
        db.executeTransactionally("DROP CONSTRAINT warm_id IF EXISTS");
    }

    /** A new store: the initial password, as {@code neo4j-admin dbms set-initial-password} sets it. */
    private static void setInitialPassword(Options options, String password) throws Exception {
        Config config = Config.newBuilder()
                .set(GraphDatabaseSettings.neo4j_home, options.home)
                .fromFile(options.config)
                .build();
        Path authIni = CommunitySecurityModule.getInitialUserRepositoryFile(config);
        Files.createDirectories(authIni.getParent());
        Files.deleteIfExists(authIni);
        try (FileSystemAbstraction fs = new DefaultFileSystemAbstraction()) {
            FileUserRepository users =
                    new FileUserRepository(fs, authIni, NullLogProvider.getInstance(), EmptyMemoryTracker.INSTANCE);
            users.start();
            users.create(new User(
                    "neo4j",
                    null,
                    SystemGraphCredential.createCredentialForPassword(UTF8.encode(password), new SecureHasher()),
                    false,
                    false));
            users.shutdown();
        }
        System.out.println("graphrec: initial password of user neo4j set from " + options.passwordFile);
    }

    /** An existing store: start without connectors, give user neo4j the password, stop. */
    private static void setPassword(Options options, String password) {
        DatabaseManagementService dbms = build(options, false);
        try {
            GraphDatabaseService system = dbms.database("system");
            try {
                system.executeTransactionally(
                        "ALTER USER neo4j SET PLAINTEXT PASSWORD $password CHANGE NOT REQUIRED",
                        Map.of("password", password));
            } catch (QueryExecutionException e) {
                // The store already has this password (the marker file was lost): nothing to do.
                if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                    throw e;
                }
            }
            System.out.println("graphrec: password of user neo4j set from " + options.passwordFile);
        } finally {
            dbms.shutdown();
        }
    }

    private static DatabaseManagementService build(Options options, boolean bolt) {
        return new DatabaseManagementServiceBuilder(options.home)
                .loadPropertiesFromFile(options.config)
                .setConfig(BoltConnector.enabled, bolt)
                .build();
    }

    private static String sha256(String text) throws NoSuchAlgorithmException {
        byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(hash);
    }

    private record Options(Path home, Path config, Path passwordFile, String database, boolean warmup) {
        static Options parse(String[] args) throws IOException {
            Path home = null;
            Path config = null;
            Path passwordFile = null;
            String database = "neo4j";
            boolean warmup = false;
            List<String> list = List.of(args);
            for (int i = 0; i < list.size(); i += 2) {
                if (i + 1 >= list.size()) {
                    throw new IllegalArgumentException("missing value after " + list.get(i));
                }
                String value = list.get(i + 1);
                switch (list.get(i)) {
                    case "--home" -> home = Path.of(value).toAbsolutePath();
                    case "--config" -> config = Path.of(value);
                    case "--password-file" -> passwordFile = Path.of(value);
                    case "--database" -> database = value;
                    case "--warmup" -> warmup = Boolean.parseBoolean(value);
                    default -> throw new IllegalArgumentException("unknown argument " + list.get(i));
                }
            }
            if (home == null || config == null || passwordFile == null) {
                throw new IllegalArgumentException("--home, --config and --password-file are required");
            }
            Files.createDirectories(home);
            return new Options(home, config, passwordFile, database, warmup);
        }
    }
}
