// The smallest useful definition: everything at its default (3 zones, 2 regions).
import { defineStack } from '@conduit/definition';

export default defineStack({});
