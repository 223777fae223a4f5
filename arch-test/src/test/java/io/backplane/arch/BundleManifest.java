package io.backplane.arch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * What bnd wrote into a built bundle's manifest: its symbolic name and the packages it imports,
 * exports and keeps private (bnd derives the imports from the bytecode, so they are exactly what
 * the main code uses of other bundles).
 */
record BundleManifest(String name, Set<String> imports, Set<String> exports, Set<String> privates) {

    /** The manifest of a jar or of a classes directory, or null when it is no bundle. */
    static BundleManifest read(Path entry) throws IOException {
        Manifest m;
        if (Files.isDirectory(entry)) {
            Path file = entry.resolve("META-INF/MANIFEST.MF");
            if (!Files.exists(file)) {
                return null;
            }
            try (InputStream in = Files.newInputStream(file)) {
                m = new Manifest(in);
            }
        } else {
            try (JarFile jar = new JarFile(entry.toFile())) {
                m = jar.getManifest();
            }
        }
        String bsn = m == null ? null : m.getMainAttributes().getValue("Bundle-SymbolicName");
        if (bsn == null) {
            return null;
        }
        return of(bsn.split(";")[0].trim(), m.getMainAttributes().getValue("Import-Package"),
                m.getMainAttributes().getValue("Export-Package"), m.getMainAttributes().getValue("Private-Package"));
    }

    static BundleManifest of(String name, String importHeader, String exportHeader, String privateHeader) {
        return new BundleManifest(name, packages(importHeader), packages(exportHeader), packages(privateHeader));
    }

    /** The package names of an OSGi header: clauses split at commas outside quotes, attributes dropped. */
    static Set<String> packages(String header) {
        Set<String> names = new TreeSet<>();
        if (header == null) {
            return names;
        }
        List<String> clauses = new ArrayList<>();
        StringBuilder clause = new StringBuilder();
        boolean quoted = false;
        for (char c : header.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                clauses.add(clause.toString());
                clause.setLength(0);
            } else {
                clause.append(c);
            }
        }
        clauses.add(clause.toString());
        for (String c : clauses) {
            for (String part : c.split(";")) {
                String p = part.trim();
                if (!p.isEmpty() && !p.contains("=")) {
                    names.add(p);
                }
            }
        }
        return names;
    }
}
