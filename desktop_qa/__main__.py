from desktop_qa.cli import main

# Guarded: a spawned worker process (library indexing) imports this module again.
if __name__ == "__main__":
    raise SystemExit(main())
