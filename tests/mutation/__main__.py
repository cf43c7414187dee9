from tests.mutation.run import main

raise SystemExit(main())
