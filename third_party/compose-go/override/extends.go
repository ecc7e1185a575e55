/*
   Copyright 2020 The Compose Specification Authors.

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at

       http://www.apache.org/licenses/LICENSE-2.0

   Unless required by applicable law or agreed to in writing, software
   distributed under the License is distributed on an "AS IS" BASIS,
   WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and
   limitations under the License.
*/

package override

import "github.com/compose-spec/compose-go/v2/tree"

func ExtendService(base, override map[string]any) (map[string]any, error) {
	yaml, err := MergeYaml(base, override, tree.NewPath("services.x"))
	if err != nil {
		return nil, err
	}
	return yaml.(map[string]any), nil
}
