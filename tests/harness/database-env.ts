import { inject } from 'vitest'

// Before any test file imports the app, point its pool at the run's database.
process.env.DATABASE_URL = inject('databaseUrl')
