from desktop_qa.cli import main

raise SystemExit(main())
