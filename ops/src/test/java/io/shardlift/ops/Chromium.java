package io.shardlift.ops;

import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/** Debian's headless Chromium through its chromedriver, for the tests of the operator's page. */
public final class Chromium {

    static final Path BINARY = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");

    private Chromium() {
    }

    /** Skips the test when Chromium is not installed, or fails it under {@code CI=true}, saying what to install. */
    public static void requireInstalled() {
        if (!Files.isExecutable(BINARY) || !Files.isExecutable(DRIVER)) {
            String why = BINARY + " or " + DRIVER + " is missing: install the Debian packages chromium and chromium-driver"
                    + " (.ci/run does)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(why);
            }
            Assumptions.abort(why);
        }
    }

    /** A fresh headless browser with its own profile under {@code profile}; quit it when done. */
    public static WebDriver start(Path profile) {
        ChromeOptions o = new ChromeOptions();
        o.setBinary(BINARY.toFile());
        // without the networking switches Chromium floods the closed network with connections it is refused
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,1700",
                "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .withLogFile(profile.resolveSibling("chromedriver.log").toFile()).build();
        WebDriver d = new ChromeDriver(service, o);
        d.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        // a test that fails before its quit() must not leave the browser running after the test JVM exits
        Runtime.getRuntime().addShutdownHook(new Thread(d::quit, "quit-chromium"));
        return d;
    }

    public static Object js(WebDriver browser, String script) {
        return ((JavascriptExecutor) browser).executeScript(script);
    }
}
