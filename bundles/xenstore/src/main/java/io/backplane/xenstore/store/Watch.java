package io.backplane.xenstore.store;

/**
 * A registered watch. {@code path} is canonical (absolute, or a special {@code @} name);
 * {@code relativeTo} is the home path to strip from event paths when the client gave a relative
 * path, else null.
 */
record Watch(String path, String token, String relativeTo) {

    String eventPath(String changed) {
        if (relativeTo == null) {
            return changed;
        }
        String rest = changed.substring(relativeTo.length());
        return rest.startsWith("/") ? rest.substring(1) : rest;
    }
}
