{
  "targets": [
    {
      "target_name": "ofd_lock",
      "sources": ["native/ofd-lock.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
