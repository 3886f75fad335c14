#!/bin/sh
# The mailroot command inside the image: the launcher jar and its libraries, JVM options from MAILROOT_JAVA_OPTS.
exec java $MAILROOT_JAVA_OPTS -cp "/opt/mailroot/mailroot-launcher.jar:/opt/mailroot/lib/*" io.mailroot.launcher.Main "$@"
