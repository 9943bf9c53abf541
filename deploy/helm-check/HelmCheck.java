/*
 * Runs the real Helm engine on a chart: helm-java (Maven Central, com.marcnuri.helm-java) embeds
 * Helm's own Go library as a native library, so `lint` and `template` here are Helm's, not a
 * re-implementation. Driven by deploy/helm-check.sh, which fetches the jars and compiles this.
 *
 *   HelmCheck check    <chart> <outDir> <kubeVersion> <scenario>=<values.yaml>[,<values.yaml>]...
 *       writes <outDir>/<scenario>.yaml (helm template) and <scenario>.notes.txt (NOTES.txt, from a
 *       client-only `helm install --dry-run`, which never contacts a cluster)
 *   HelmCheck template <chart> <kubeVersion> [<values.yaml>]...      (manifests to stdout)
 *   HelmCheck renders  <chart> <outDir> <kubeVersion> <name>=<values.yaml>[,<values.yaml>]...
 *       helm template of each value set in this one JVM: <outDir>/<name>.yaml when it renders,
 *       <outDir>/<name>.error (Helm's message) when Helm refuses it; a refusal is a result here
 *
 * Exit 0: all good (renders: every value set was tried); 1: lint failed or a render failed (Helm's
 * message on stderr); 2: usage.
 */
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

public final class HelmCheck {
  // The release name and namespace every render uses; the test reads names built from them.
  static final String RELEASE = "shekara";
  static final String NAMESPACE = "shekara";

  public static void main(String[] args) {
    try {
      if (args.length >= 4 && args[0].equals("check")) {
        System.exit(check(Path.of(args[1]), Path.of(args[2]), args[3], Arrays.asList(args).subList(4, args.length)));
      } else if (args.length >= 4 && args[0].equals("renders")) {
        System.exit(renders(Path.of(args[1]), Path.of(args[2]), args[3], Arrays.asList(args).subList(4, args.length)));
      } else if (args.length >= 3 && args[0].equals("template")) {
        System.out.print(render(Path.of(args[1]), args[2], Arrays.asList(args).subList(3, args.length)));
        System.exit(0);
      }
      System.err.println("usage: HelmCheck check|renders <chart> <outDir> <kubeVersion> <name>=<values>[,<values>]... | template <chart> <kubeVersion> [<values>]...");
      System.exit(2);
    } catch (RuntimeException e) {
      // helm-java surfaces Helm's error (a template's `fail`, a YAML error) as the message.
      System.err.println("helm: " + e.getMessage());
      System.exit(1);
    }
  }

  static int check(Path chart, Path outDir, String kubeVersion, List<String> scenarios) throws RuntimeException {
    System.out.println("helm engine: helm-java embedding Helm " + Helm.version().call());
    // strict: warnings fail too, as `helm lint --strict` does.
    LintResult lint = new Helm(chart).lint().strict().call();
    for (String m : lint.getMessages()) if (!m.isBlank()) System.out.println("helm lint: " + m);
    if (lint.isFailed()) {
      System.err.println("helm lint --strict failed for " + chart);
      return 1;
    }
    try {
      Files.createDirectories(outDir);
      for (String s : scenarios) {
        ValueSet v = valueSet(s);
        String name = v.name();
        List<String> files = v.files();
        String out = step("helm template (" + name + ")", () -> render(chart, kubeVersion, files));
        Path file = outDir.resolve(name + ".yaml");
        Files.writeString(file, out, StandardCharsets.UTF_8);
        System.out.println("helm template (" + name + "): " + out.length() + " bytes -> " + file);
        String notes = step("helm install --dry-run (" + name + ")", () -> notes(chart, kubeVersion, files));
        Files.writeString(outDir.resolve(name + ".notes.txt"), notes, StandardCharsets.UTF_8);
      }
    } catch (java.io.IOException e) {
      throw new RuntimeException(e);
    }
    return 0;
  }

  /** A named set of values files, from `<name>=<values>[,<values>]` (no files: the chart's own values). */
  record ValueSet(String name, List<String> files) {}

  static ValueSet valueSet(String s) {
    int eq = s.indexOf('=');
    if (eq <= 0) throw new IllegalArgumentException("value set must be <name>=<values>[,<values>]: " + s);
    List<String> files = s.length() > eq + 1 ? Arrays.asList(s.substring(eq + 1).split(",")) : List.of();
    return new ValueSet(s.substring(0, eq), files);
  }

  /**
   * Each value set rendered or refused, in one JVM: a JVM start and Helm's library load cost more
   * than a render, and a test asks for several refusals at once.
   */
  static int renders(Path chart, Path outDir, String kubeVersion, List<String> sets) {
    try {
      Files.createDirectories(outDir);
      for (String s : sets) {
        ValueSet v = valueSet(s);
        String name = v.name();
        String out;
        try {
          out = render(chart, kubeVersion, v.files());
        } catch (RuntimeException e) {
          Files.writeString(outDir.resolve(name + ".error"), "helm: " + e.getMessage() + "\n", StandardCharsets.UTF_8);
          System.out.println("helm template (" + name + "): refused");
          continue;
        }
        Files.writeString(outDir.resolve(name + ".yaml"), out, StandardCharsets.UTF_8);
        System.out.println("helm template (" + name + "): " + out.length() + " bytes");
      }
    } catch (java.io.IOException e) {
      throw new RuntimeException(e);
    }
    return 0;
  }

  /** Runs one Helm call, naming it in the error that main() prints. */
  static <T> T step(String what, Supplier<T> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      throw new IllegalStateException(what + ": " + e.getMessage(), e);
    }
  }

  /** NOTES.txt as `helm install` would print it; `helm template` does not render it. */
  static String notes(Path chart, String kubeVersion, List<String> valuesFiles) {
    InstallCommand i = new Helm(chart).install().withName(RELEASE).withNamespace(NAMESPACE).withKubeVersion(kubeVersion).dryRun().clientOnly();
    for (String f : valuesFiles) if (!f.isBlank()) i = i.withValuesFile(Path.of(f));
    String out = i.call().getOutput();
    int at = out.indexOf("NOTES:\n");
    if (at < 0) throw new IllegalStateException("no NOTES in the dry-run output");
    return out.substring(at + "NOTES:\n".length());
  }

  static String render(Path chart, String kubeVersion, List<String> valuesFiles) {
    TemplateCommand t = new Helm(chart).template().withName(RELEASE).withNamespace(NAMESPACE).withKubeVersion(kubeVersion);
    for (String f : valuesFiles) if (!f.isBlank()) t = t.withValuesFile(Path.of(f));
    return t.call();
  }
}
